// The SSH transport against a real sshd on loopback: commands, multiplexing, timeouts, host keys.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sshdUnavailable, TestSshd } from '../testing/sshd.js';
import { freePort } from '../demo/lab.js';
import { SshTransport, type SshHost } from './ssh.js';

const skip = sshdUnavailable() ?? false;

describe('ssh transport', { skip }, () => {
  let sshd: TestSshd;
  let dir: string;
  const open: SshTransport[] = [];
  const transport = (over: Partial<SshHost> = {}): SshTransport => {
    const t = new SshTransport({
      name: 'h1', address: '127.0.0.1', user: sshd.user, port: sshd.port, identityFile: sshd.identityFile,
      knownHostsFile: sshd.knownHostsFile, connectTimeoutMs: 2000, ...over,
    }, { controlDir: join(dir, `ctl-${open.length}`) });
    open.push(t);
    return t;
  };

  before(async () => {
    sshd = await TestSshd.start();
    dir = mkdtempSync(join(tmpdir(), 'warden-ssh-'));
  });
  after(async () => {
    await Promise.all(open.map((t) => t.close()));
    await sshd.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs argv on the host word for word, with its env, and returns its exit status', async () => {
    const t = transport();
    const r = await t.run(['sh', '-c', 'printf "%s|" "$@"; echo "$GREETING"; exit 3', 'sh', "it's", 'a b', '$HOME'], { timeoutMs: 5000, env: { GREETING: 'hi there' } });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, "it's|a b|$HOME|hi there\n");
    assert.equal(r.unreachable, undefined);
  });

  it('keeps one master connection that later commands ride on', async () => {
    const t = transport();
    await t.run(['true'], { timeoutMs: 5000 });
    const check = (): number | null => spawnSync('ssh', [...t.baseArgs(), '-O', 'check', '127.0.0.1'], { encoding: 'utf8' }).status;
    const deadline = Date.now() + 5000;
    while (check() !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(check(), 0, 'ssh -O check: the master answers on the control socket');
    assert.equal(t.masterProblem, null);
    const r = await t.run(['echo', 'again'], { timeoutMs: 5000 });
    assert.equal(r.stdout, 'again\n');
  });

  it('kills a command that overruns its timeout and says so', async () => {
    const t = transport();
    const r = await t.run(['sleep', '10'], { timeoutMs: 300 });
    assert.equal(r.code, null);
    assert.match(r.stderr, /timed out after 300 ms/);
    assert.equal(r.unreachable, undefined, 'a slow command is not an unreachable host');
  });

  it('reports an unknown host key as such, never accepting it', async () => {
    const empty = join(dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    const r = await transport({ knownHostsFile: empty }).run(['true'], { timeoutMs: 5000 });
    assert.equal(r.code, 255);
    assert.equal(r.unreachable?.code, 'HOST_KEY_UNKNOWN', r.stderr);
    assert.match(r.unreachable.message, /not in known_hosts/);
  });

  it('reports a connection refused as an unreachable host', async () => {
    const r = await transport({ port: await freePort() }).run(['true'], { timeoutMs: 5000 });
    assert.equal(r.unreachable?.code, 'HOST_UNREACHABLE', r.stderr);
  });

  it('reports a login refused as an authentication failure', async () => {
    const r = await transport({ user: 'nobody' }).run(['true'], { timeoutMs: 5000 });
    assert.equal(r.unreachable?.code, 'AUTH_FAILED', r.stderr);
  });

  it('opens a TCP stream from the host to its own loopback (ssh -W)', async () => {
    const srv = createServer((s) => { s.on('error', () => undefined); s.end('hello from the host\n'); });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    try {
      const stream = await transport().connect({ host: '127.0.0.1', port }, { timeoutMs: 5000 });
      let got = '';
      for await (const c of stream) got += String(c);
      assert.equal(got, 'hello from the host\n');
    } finally {
      srv.close();
    }
  });

  it('reports a host key that changed (the last test: it replaces the key)', async () => {
    await sshd.replaceHostKey();
    const r = await transport().run(['true'], { timeoutMs: 5000 });
    assert.equal(r.unreachable?.code, 'HOST_KEY_CHANGED', r.stderr);
    sshd.trustHostKey();
  });
});
