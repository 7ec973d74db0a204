import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileBodyMatch, http } from './http.js';

async function serve(t: { after(fn: () => void): void }, server: Server | ReturnType<typeof createNetServer>): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return (server.address() as { port: number }).port;
}

function app(): Server {
  return createHttpServer((req, res) => {
    if (req.url === '/healthz') res.end('{"status":"ok","version":"1.2.3"}');
    else if (req.url === '/big') {
      res.write('x'.repeat(200 * 1024));
      res.end('needle');
    } else if (req.url === '/slow') setTimeout(() => res.end('late'), 2000).unref();
    else {
      res.statusCode = 503;
      res.end('down');
    }
  });
}

test('bodyMatch: substring or /regex/flags', () => {
  assert.equal(compileBodyMatch('ok')('{"status":"ok"}'), true);
  assert.equal(compileBodyMatch('/"status":"o[k]"/')('{"status":"ok"}'), true);
  assert.equal(compileBodyMatch('/OK/i')('ok'), true);
  assert.equal(compileBodyMatch('/^ok$/')('not ok'), false);
  assert.throws(() => compileBodyMatch('/(/'));
});

test('http probe: status match, mismatch, body match and miss', async (t) => {
  const port = await serve(t, app());
  const base = `http://127.0.0.1:${port}`;
  const good = await http({ type: 'http', url: `${base}/healthz`, expectStatus: 200 }, 1000);
  assert.equal(good.ok, true, good.message);
  assert.match(good.message, /^HTTP 200$/);

  const bad = await http({ type: 'http', url: `${base}/other`, expectStatus: 200 }, 1000);
  assert.equal(bad.ok, false);
  assert.match(bad.message, /^HTTP 503 \(expected 200\)/);

  const matched = await http({ type: 'http', url: `${base}/healthz`, expectStatus: 200, bodyMatch: '/"version":"1\\.\\d/' }, 1000);
  assert.equal(matched.ok, true, matched.message);
  const missed = await http({ type: 'http', url: `${base}/healthz`, expectStatus: 200, bodyMatch: 'degraded' }, 1000);
  assert.equal(missed.ok, false);
  assert.match(missed.message, /body did not match degraded/);
});

test('http probe reads at most 64 KiB of body', async (t) => {
  const port = await serve(t, app());
  // "needle" sits after 200 KiB, so it must not be seen.
  const r = await http({ type: 'http', url: `http://127.0.0.1:${port}/big`, expectStatus: 200, bodyMatch: 'needle' }, 1000);
  assert.equal(r.ok, false);
  const head = await http({ type: 'http', url: `http://127.0.0.1:${port}/big`, expectStatus: 200, bodyMatch: 'xxx' }, 1000);
  assert.equal(head.ok, true);
});

test('http probe times out on a server that accepts but never answers', async (t) => {
  const sockets: Socket[] = [];
  const server = createNetServer((s) => sockets.push(s));
  t.after(() => sockets.forEach((s) => s.destroy()));
  const port = await serve(t, server);
  const r = await http({ type: 'http', url: `http://127.0.0.1:${port}/`, expectStatus: 200 }, 300);
  assert.equal(r.ok, false);
  assert.equal(r.timedOut, true);
  assert.equal(r.message, 'timed out after 300 ms');
});

test('http probe times out on a slow handler', async (t) => {
  const port = await serve(t, app());
  const r = await http({ type: 'http', url: `http://127.0.0.1:${port}/slow`, expectStatus: 200 }, 200);
  assert.equal(r.timedOut, true);
});

test('http probe reports refused connections and bad URLs without throwing', async () => {
  const r = await http({ type: 'http', url: 'http://127.0.0.1:1/', expectStatus: 200 }, 1000);
  assert.equal(r.ok, false);
  assert.equal(r.message, 'connect ECONNREFUSED 127.0.0.1:1');
  const u = await http({ type: 'http', url: 'not a url', expectStatus: 200 }, 1000);
  assert.equal(u.ok, false);
  const p = await http({ type: 'http', url: 'ftp://x/', expectStatus: 200 }, 1000);
  assert.match(p.message, /unsupported protocol/);
  const re = await http({ type: 'http', url: 'http://127.0.0.1:1/', expectStatus: 200, bodyMatch: '/(/' }, 1000);
  assert.match(re.message, /Invalid regular expression/);
});

test('http probe has no Nagle/delayed-ACK penalty (median of 20 well under 40 ms)', async (t) => {
  const port = await serve(t, app());
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await http({ type: 'http', url: `http://127.0.0.1:${port}/healthz`, expectStatus: 200, bodyMatch: 'ok' }, 1000);
    assert.equal(r.ok, true, r.message);
    times.push(r.latencyMs);
  }
  times.sort((a, b) => a - b);
  const median = times[10] ?? Infinity;
  t.diagnostic(`http probe latency: median ${median} ms, max ${times[19]} ms`);
  assert.ok(median < 20, `median ${median} ms`);
});
