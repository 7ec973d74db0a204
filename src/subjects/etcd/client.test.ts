// The etcd client's own logic: id spellings, /metrics parsing, timeouts and how answers that are
// not results become errors. Real etcd is exercised in test/e2e/etcd-lab.test.ts; the servers here
// are real sockets that answer as etcd 3.4.23's gateway did (bodies copied from it) or not at all.
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtcdClient, EtcdError, idFromHex, idToHex, isNoSpace, parsePeerLinks } from './client.js';

async function serve(t: { after(fn: () => void): void }, server: Server | ReturnType<typeof createNetServer>): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

function answering(status: number, body: string): Server {
  return createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.statusCode = status;
      res.end(body);
    });
  });
}

test('member ids: the gateway\'s decimal uint64 and etcdctl\'s hex are one id', () => {
  assert.equal(idToHex('18150234531284439423'), 'fbe29624633cd17f');
  assert.equal(idFromHex('fbe29624633cd17f'), '18150234531284439423');
  assert.equal(idFromHex(idToHex('5045050359614920930')), '5045050359614920930');
  assert.throws(() => idFromHex('m0'), /not a member id/);
  assert.throws(() => idFromHex('1'.repeat(17)), /not a member id/);
});

test('peer links from /metrics', () => {
  const metrics = [
    '# HELP etcd_network_active_peers The current number of active peer connections.',
    '# TYPE etcd_network_active_peers gauge',
    'etcd_network_active_peers{Local="46039e927ecdd8e2",Remote="7062141b3b9c4eab"} 1',
    'etcd_network_active_peers{Local="46039e927ecdd8e2",Remote="fbe29624633cd17f"} 0',
    'etcd_network_disconnected_peers_total{Local="46039e927ecdd8e2",Remote="fbe29624633cd17f"} 1',
  ].join('\n');
  assert.deepEqual(parsePeerLinks(metrics), [
    { local: '46039e927ecdd8e2', remote: '7062141b3b9c4eab', active: true },
    { local: '46039e927ecdd8e2', remote: 'fbe29624633cd17f', active: false },
  ]);
});

test('a member that accepts but never answers times out as ETCD_UNREACHABLE, retryable', async (t) => {
  const sockets: Socket[] = [];
  const url = await serve(t, createNetServer((s) => sockets.push(s)));
  t.after(() => sockets.forEach((s) => s.destroy()));
  const err = await new EtcdClient(url, { timeoutMs: 200 }).status().catch((e: unknown) => e);
  assert.ok(err instanceof EtcdError);
  assert.equal(err.code, 'ETCD_UNREACHABLE');
  assert.equal(err.retryable, true);
  assert.equal(err.message, `${url}/v3/maintenance/status: no answer within 200 ms`);
  // The per-call timeout and the caller's signal both apply.
  const ac = new AbortController();
  const call = new EtcdClient(url).health({ signal: ac.signal });
  ac.abort();
  await assert.rejects(call, /\/health: cancelled$/);
});

test('a refused connection is ETCD_UNREACHABLE', async () => {
  await assert.rejects(new EtcdClient('http://127.0.0.1:1').memberList(), (e: unknown) => e instanceof EtcdError && e.code === 'ETCD_UNREACHABLE' && /ECONNREFUSED/.test(e.message));
});

test('etcd\'s refusals keep its message; transient ones are retryable', async (t) => {
  const full = await serve(t, answering(429, '{"error":"etcdserver: mvcc: database space exceeded","message":"etcdserver: mvcc: database space exceeded","code":8}'));
  const e1 = await new EtcdClient(full).put('k', 'v').catch((e: unknown) => e);
  assert.ok(e1 instanceof EtcdError);
  assert.equal(e1.code, 'ETCD_REQUEST_FAILED');
  assert.equal(e1.etcdMessage, 'etcdserver: mvcc: database space exceeded');
  assert.equal(e1.retryable, false, 'a full backend stays full until someone acts');
  assert.equal(isNoSpace(e1), true);

  const busy = await serve(t, answering(503, '{"error":"etcdserver: unhealthy cluster","message":"etcdserver: unhealthy cluster","code":14}'));
  const e2 = await new EtcdClient(busy).memberAdd(['http://10.0.0.1:2380']).catch((e: unknown) => e);
  assert.ok(e2 instanceof EtcdError && e2.retryable);
  assert.match(e2.message, /member\/add: HTTP 503: etcdserver: unhealthy cluster$/);
});

test('answers that are not what etcd sends are ETCD_BAD_RESPONSE', async (t) => {
  const html = await serve(t, answering(200, '<html>proxy</html>'));
  await assert.rejects(new EtcdClient(html).status(), (e: unknown) => e instanceof EtcdError && e.code === 'ETCD_BAD_RESPONSE' && /not JSON/.test(e.message));
  const odd = await serve(t, answering(200, '{"header":{},"dbSize":12}'));
  await assert.rejects(new EtcdClient(odd).status(), (e: unknown) => e instanceof EtcdError && e.code === 'ETCD_BAD_RESPONSE' && /unexpected answer/.test(e.message));
});

test('an unhealthy member\'s 503 from /health is an answer, and zero values are defaults', async (t) => {
  const sick = await serve(t, answering(503, '{"health":"false"}'));
  assert.deepEqual(await new EtcdClient(sick).health(), { healthy: false, reason: '' });
  // etcd 3.4.23 left out zero values: an alarm list with no alarms is `{}`.
  const none = await serve(t, answering(200, '{}'));
  assert.deepEqual(await new EtcdClient(none).alarms(), []);
  const st = await serve(t, answering(200, '{"header":{"cluster_id":"15331704984814463459","member_id":"5045050359614920930","revision":"1","raft_term":"2"},"version":"3.4.23","dbSize":"20480","leader":"5045050359614920930","raftIndex":"9","raftTerm":"2","raftAppliedIndex":"9","dbSizeInUse":"16384"}'));
  assert.deepEqual(await new EtcdClient(st).status(), {
    memberId: '46039e927ecdd8e2', clusterId: 'd4c52873ecf3a9e3', version: '3.4.23', leader: '46039e927ecdd8e2',
    raftTerm: 2, raftIndex: 9, raftAppliedIndex: 9, revision: 1, dbSize: 20480, dbSizeInUse: 16384, isLearner: false, errors: [],
  });
});
