// Probes of a service on another host run there, through its transport (a real sshd on loopback).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttp } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../demo/lab.js';
import { sshdUnavailable, TestSshd } from '../testing/sshd.js';
import { SshTransport } from '../transport/ssh.js';
import { runProbe } from './index.js';

describe('probes on a remote host', { skip: sshdUnavailable() ?? false }, () => {
  let sshd: TestSshd;
  let t: SshTransport;
  let dir: string;
  const servers: Server[] = [];
  before(async () => {
    sshd = await TestSshd.start();
    dir = mkdtempSync(join(tmpdir(), 'warden-remote-'));
    t = new SshTransport({ name: 'h1', address: '127.0.0.1', user: sshd.user, port: sshd.port, identityFile: sshd.identityFile, knownHostsFile: sshd.knownHostsFile, connectTimeoutMs: 2000 }, { controlDir: join(dir, 'ctl') });
  });
  after(async () => {
    for (const s of servers) s.close();
    await t.close();
    await sshd.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exec runs the argv on the host', async () => {
    const ok = await runProbe({ type: 'exec', argv: ['sh', '-c', 'echo fine'], cwd: '/nonexistent-here' }, 5000, t);
    assert.equal(ok.ok, true, ok.message);
    assert.equal(ok.message, 'exit 0: fine');
    const bad = await runProbe({ type: 'exec', argv: ['sh', '-c', 'echo broken >&2; exit 2'], cwd: '/' }, 5000, t);
    assert.deepEqual([bad.ok, bad.message], [false, 'exit 2: broken']);
  });

  it('tcp connects from the host, and says when it is refused', async () => {
    // The probe may reset the connection once it has its answer: that is no error of the server's.
    const srv = createServer((s) => { s.on('error', () => undefined); s.end('+PONG\r\n'); });
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    const up = await runProbe({ type: 'tcp', address: `127.0.0.1:${port}` }, 5000, t);
    assert.equal(up.ok, true, up.message);
    const talk = await runProbe({ type: 'tcp', address: `127.0.0.1:${port}`, send: 'PING\r\n', expect: '+PONG' }, 5000, t);
    assert.equal(talk.ok, true, talk.message);
    const down = await runProbe({ type: 'tcp', address: `127.0.0.1:${await freePort()}` }, 5000, t);
    assert.equal(down.ok, false);
    assert.match(down.message, /Connection refused/);
  });

  it('http speaks HTTP over a stream the host opens', async () => {
    const srv = createHttp((_q, r) => { r.statusCode = 503; r.end('draining'); });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const port = (srv.address() as { port: number }).port;
      const r = await runProbe({ type: 'http', url: `http://127.0.0.1:${port}/healthz`, expectStatus: 200 }, 5000, t);
      assert.deepEqual([r.ok, r.message], [false, 'HTTP 503 (expected 200)']);
      const m = await runProbe({ type: 'http', url: `http://127.0.0.1:${port}/healthz`, expectStatus: 503, bodyMatch: 'drain' }, 5000, t);
      assert.equal(m.ok, true, m.message);
    } finally {
      srv.close();
    }
  });

  it('file cannot look at another host, and says so', async () => {
    const r = await runProbe({ type: 'file', path: '/etc/hostname' } as never, 5000, t);
    assert.equal(r.ok, false);
    assert.match(r.message, /cannot look at host h1/);
  });
});
