// Secrets stay secret: what Warden reads to guard its API never reaches what it starts (services,
// exec probes, runbooks), and the files that hold it or its records are its owner's alone.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { freePort } from '../../src/demo/lab.js';
import { Store } from '../../src/store/store.js';
import { cli, Daemon, waitFor, WARDEN } from './harness.js';

const SECRET = 'tok-e2e-never-in-a-child';

/** `env` output as a map. */
function envOf(file: string): Map<string, string> {
  return new Map(readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

test('no child gets WARDEN_API_TOKEN: not a service, not an exec probe, not a runbook; their own env they do get', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-secrets-'));
  const port = await freePort();
  const marker = join(dir, 'stuck');
  const config = join(dir, 'warden.yaml');
  writeFileSync(config, `version: 1
agent:
  name: keeper
  mode: execute
  dataDir: ${join(dir, 'data')}
  interval: 200ms
  verify: { stable: 300ms, deadline: 10s }
  api: { listen: "127.0.0.1:${port}" }
services:
  - name: dumper
    start: [sh, -c, 'env > "$OUT/service.env"; exec sleep 600']
    env: { OUT: "${dir}", MINE: from-config }
    stopGrace: 1s
    checks:
      - exec: { argv: [sh, -c, 'env > "$0/probe.tmp" && mv "$0/probe.tmp" "$0/probe.env"; test ! -e "$0/stuck"', "${dir}"] }
        interval: 200ms
        timeout: 150ms
        failures: 1
    runbooks:
      - name: unstick
        run: [sh, -c, 'env > "$OUT/runbook.env"; rm -f "$OUT/stuck"']
        timeout: 5s
        for: [process_hung]
policy:
  rules:
    - match: { service: "*" }
      allow: [start, restart, run-runbook]
`);
  // The daemon takes the token from its environment (no tokenFile): the case where every child
  // used to inherit it.
  process.env.WARDEN_API_TOKEN = SECRET;
  const daemon = new Daemon(config);
  t.after(async () => {
    await daemon.signal('SIGKILL');
    const s = Store.open(join(dir, 'data'), { readonly: true });
    const pid = s.getProcess('dumper')?.pid;
    s.close();
    if (pid) try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
    rmSync(dir, { recursive: true, force: true });
  });
  await daemon.start();
  // The API starts last, just after "online".
  const status = await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/api/status`, { headers: { authorization: `Bearer ${SECRET}` } })).status, 5000, 'the API');
  assert.equal(status, 200, 'the daemon itself has the token');
  await waitFor(async () => existsSync(join(dir, 'service.env')) && existsSync(join(dir, 'probe.env')), 10_000, 'service and probe ran');
  writeFileSync(marker, '');
  await waitFor(async () => existsSync(join(dir, 'runbook.env')) && !existsSync(marker), 15_000, 'the runbook ran');
  for (const who of ['service', 'probe', 'runbook']) {
    const env = envOf(join(dir, `${who}.env`));
    assert.equal(env.has('WARDEN_API_TOKEN'), false, `the ${who} got WARDEN_API_TOKEN`);
    assert.ok(!readFileSync(join(dir, `${who}.env`), 'utf8').includes(SECRET), `the ${who} saw the token's value`);
    assert.ok(env.has('PATH'), `the ${who} still gets Warden's other variables`);
  }
  assert.equal(envOf(join(dir, 'service.env')).get('MINE'), 'from-config');
  assert.equal(envOf(join(dir, 'runbook.env')).get('MINE'), 'from-config', "a runbook gets its service's env");
  const doctor = await cli(['doctor'], { config });
  assert.doesNotMatch(doctor.stdout + doctor.stderr, new RegExp(SECRET));
});

/** `warden run` to its exit (a refused start), or killed after `ms`; its exit code and output. */
function runToExit(config: string, args: string[] = [], ms = 15_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const p = spawn(WARDEN, ['--config', config, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    p.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const timer = setTimeout(() => p.kill('SIGKILL'), ms);
    p.once('close', (code) => { clearTimeout(timer); resolve({ code, output }); });
  });
}

const modeOf = (p: string): number => statSync(p).mode & 0o777;

/** A directory with a config of one quiet service; `api` and `notify` are YAML lines under agent / at the top. */
function world(t: TestContext, opts: { api?: string; notify?: string; configMode?: number } = {}): { dir: string; config: string; dataDir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'warden-perms-'));
  const dataDir = join(dir, 'data');
  const config = join(dir, 'warden.yaml');
  writeFileSync(config, `version: 1
agent:
  name: keeper
  mode: execute
  dataDir: ${dataDir}
  interval: 200ms
${opts.api ?? ''}
services:
  - name: talker
    start: [sh, -c, 'echo hello from talker; exec sleep 600']
    stopGrace: 1s
${opts.notify ?? ''}
`, { mode: opts.configMode ?? 0o644 });
  chmodSync(config, opts.configMode ?? 0o644);
  t.after(() => {
    if (existsSync(join(dataDir, 'warden.db'))) {
      const s = Store.open(dataDir, { readonly: true });
      const pid = s.getProcess('talker')?.pid;
      s.close();
      if (pid) try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  return { dir, config, dataDir };
}

test("the data directory is 0700 and the store and logs 0600, under the operator's umask 022; looser ones from before are tightened", async (t) => {
  const { config, dataDir } = world(t);
  // What an older Warden left under umask 022.
  mkdirSync(join(dataDir, 'logs'), { recursive: true, mode: 0o755 });
  chmodSync(dataDir, 0o755);
  writeFileSync(join(dataDir, 'logs', 'old.log'), 'old\n', { mode: 0o644 });
  const daemon = new Daemon(config);
  t.after(() => daemon.signal('SIGKILL'));
  const old = process.umask(0o022);
  try {
    await daemon.start();
  } finally {
    process.umask(old);
  }
  const log = join(dataDir, 'logs', 'talker.log');
  await waitFor(async () => existsSync(log) && readFileSync(log, 'utf8').includes('hello from talker'), 10_000, 'talker logged');
  assert.equal(modeOf(dataDir), 0o700, 'data directory');
  assert.equal(modeOf(join(dataDir, 'logs')), 0o700, 'logs directory');
  for (const f of ['warden.db', 'warden.db-wal', 'warden.db-shm', 'warden.lock', 'warden.pid', 'logs/talker.log', 'logs/old.log']) {
    const p = join(dataDir, f);
    if (existsSync(p)) assert.equal(modeOf(p).toString(8), '600', f);
    else assert.ok(!['warden.db', 'logs/talker.log'].includes(f), `${f} missing`);
  }
});

test('a token file others can read is refused at start, named with its mode and the fix; --insecure starts with a warning', async (t) => {
  const port = await freePort();
  const { dir, config, dataDir } = world(t, { api: `  api: { listen: "127.0.0.1:${port}", tokenFile: ./token }` });
  const token = join(dir, 'token');
  writeFileSync(token, 'open-token\n', { mode: 0o644 });
  chmodSync(token, 0o644);
  const refused = await runToExit(config);
  assert.equal(refused.code, 1, refused.output);
  assert.match(refused.output, new RegExp(`agent.api.tokenFile ${token} is mode 0644: other users can read .*chmod 600 ${token}.*--insecure`));
  assert.doesNotMatch(refused.output, /open-token/, 'the token itself is never printed');
  assert.equal(existsSync(join(dataDir, 'warden.db')), false, 'a refused start writes nothing');

  const daemon = new Daemon(config, ['--insecure']);
  t.after(() => daemon.signal('SIGKILL'));
  await daemon.start();
  assert.match(daemon.output, /warning: agent.api.tokenFile .* is mode 0644: other users can read/);
  await daemon.stop();

  chmodSync(token, 0o600);
  const quiet = new Daemon(config);
  t.after(() => quiet.signal('SIGKILL'));
  await quiet.start();
  assert.doesNotMatch(quiet.output, /warning/);
});

test('a config holding secrets that others can read is refused, naming where the secrets are; 0600 starts', async (t) => {
  const { config } = world(t, {
    notify: `notify:
  - name: pager
    webhook: { url: "http://127.0.0.1:9/hook", headers: { Authorization: "Bearer hook-secret", Content-Type: application/json } }`,
    configMode: 0o644,
  });
  const refused = await runToExit(config);
  assert.equal(refused.code, 1, refused.output);
  assert.match(refused.output, new RegExp(`${config} holds secrets \\(notify "pager" webhook header Authorization\\) and is mode 0644: other users can read them; chmod 600 ${config}`));
  assert.doesNotMatch(refused.output, /hook-secret/);
  assert.doesNotMatch(refused.output, /Content-Type/, 'only secret-looking headers count');

  const loose = new Daemon(config, ['--insecure']);
  t.after(() => loose.signal('SIGKILL'));
  await loose.start();
  assert.match(loose.output, /warning: .* holds secrets/);
  await loose.stop();

  chmodSync(config, 0o600);
  const daemon = new Daemon(config);
  t.after(() => daemon.signal('SIGKILL'));
  await daemon.start();
  assert.doesNotMatch(daemon.output, /warning/);
  // Opened up while running: a reload keeps the running config rather than take it from there.
  // After the first pass the SIGHUP handler is in place (a SIGHUP before it would end the process).
  await waitFor(async () => (await cli(['status', '--json'], { config })).code !== 3, 10_000, 'first pass');
  chmodSync(config, 0o644);
  daemon.proc!.kill('SIGHUP');
  await waitFor(async () => /reload rejected, keeping the running config: .* holds secrets/.test(daemon.output), 5000, 'reload rejected');
});
