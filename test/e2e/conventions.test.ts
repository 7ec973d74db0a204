// Habits of the ecosystem, through the real bin/warden: --version, no colour off a TTY or with
// NO_COLOR, quiet on a closed pipe, integer flags checked as usage errors, shell completion, one
// name per concept in every JSON output.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../../src/demo/lab.js';
import { cli, cliJson, startLab, statusJson, waitFor, WARDEN } from './harness.js';

const ESC = '\x1b[';

/** A config whose `status` table is far larger than a pipe's buffer, and no data directory. */
function bigConfig(t: { after: (fn: () => void) => void }, services: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-conv-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lines = ['version: 1', 'agent:', '  name: conv', '  mode: observe', '  dataDir: ./data', 'services:'];
  for (let i = 0; i < services; i++) lines.push(`  - { name: service-with-a-long-name-${i}, kind: process, start: [sleep, "60"] }`);
  const file = join(dir, 'warden.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('--version and -V print the package version', async () => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const r = await cli([flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${version}\n`);
  }
});

test('status | head -1: a reader that goes away ends warden quietly with exit 0', async (t) => {
  const config = bigConfig(t, 3000);
  const child = spawn(WARDEN, ['--config', config, 'status'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  let first = '';
  let closed = false;
  child.stdout.on('data', (d: Buffer) => {
    if (closed) return;
    first += d.toString();
    // Like head -1: close the pipe once the first line is in, while warden is still writing.
    if (first.includes('\n')) {
      closed = true;
      child.stdout.destroy();
    }
  });
  const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
  assert.match(first.split('\n')[0]!, /^conv: /);
  assert.equal(stderr, '', 'nothing on stderr');
  assert.equal(code, 0);
});

test('no escape codes off a TTY or with NO_COLOR; colour on a TTY', async (t) => {
  const config = bigConfig(t, 2);
  const piped = await cli(['--config', config, 'status']);
  assert.equal(piped.code, 3, 'no daemon runs');
  assert.match(piped.stdout, /unknown/);
  assert.ok(!piped.stdout.includes(ESC), 'no colour into a pipe');
  // script(1) gives warden a real terminal.
  const tty = (env: NodeJS.ProcessEnv): Promise<{ stdout: string }> => run('script', ['-qec', `${WARDEN} --config ${config} status`, '/dev/null'], env);
  const { NO_COLOR: _, ...withoutNoColor } = process.env;
  assert.ok((await tty(withoutNoColor)).stdout.includes(ESC), 'colour on a terminal');
  const plain = await tty({ ...process.env, NO_COLOR: '1' });
  assert.match(plain.stdout, /unknown/);
  assert.ok(!plain.stdout.includes(ESC), 'NO_COLOR wins on a terminal');
});

test('bad numbers in flags are usage errors (exit 2) that say what was expected', async (t) => {
  const config = bigConfig(t, 1);
  for (const args of [['tickets', 'list', '--limit', 'abc'], ['actions', 'list', '--limit', '-1'], ['audit', 'list', '--limit', '1.5'], ['debug', 'service-with-a-long-name-0', '--lines', '1e9']]) {
    const r = await cli(['--config', config, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /argument '.*' is invalid\. Expected an integer from \d+ to \d+/);
    assert.doesNotMatch(r.stderr, /SQLITE/);
  }
});

test('completion bash: a valid script that completes commands, subcommands and flags', async (t) => {
  const r = await cli(['completion', 'bash']);
  assert.equal(r.code, 0, r.stderr);
  const dir = mkdtempSync(join(tmpdir(), 'warden-conv-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'warden.bash');
  writeFileSync(script, r.stdout);
  assert.equal((await run('bash', ['-n', script])).code, 0, 'bash -n accepts it');
  const complete = async (...words: string[]): Promise<string[]> => {
    const line = `source ${script}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _warden; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const out = await run('bash', ['-c', line]);
    assert.equal(out.code, 0, out.stderr);
    return out.stdout.split('\n').filter(Boolean);
  };
  assert.deepEqual(await complete('warden', 'tickets', 'sh'), ['show']);
  assert.deepEqual(await complete('warden', '--config', 'x.yaml', 'tic'), ['tickets']);
  assert.deepEqual(await complete('warden', 'actions', 'list', '--li'), ['--limit']);
  assert.deepEqual(await complete('warden', 'completion', ''), ['bash', 'zsh', '--help', '-h']);
  const zsh = await cli(['completion', 'zsh']);
  assert.equal(zsh.code, 0);
  assert.match(zsh.stdout, /^#compdef warden\n/);
  assert.match(zsh.stdout, /'show:show one ticket/);
  assert.equal((await cli(['completion', 'fish'])).code, 2);
});

test('one name per concept: every JSON output names the service `service` and a lifecycle `state`', async (t) => {
  const run = await startLab();
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitSettled(['web', 'cache']);
  process.kill(run.pid('web'), 'SIGKILL');
  await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && x.status === 'resolved'), 30_000, 'the web ticket resolved');
  const config = run.lab.configPath;
  const { status } = await statusJson<{ services: Record<string, unknown>[] }>(config);
  const tickets = await cliJson<Record<string, unknown>[]>(['tickets', 'list', '--all'], config);
  const actions = await cliJson<Record<string, unknown>[]>(['actions', 'list'], config);
  const debug = await cliJson<{ tickets: Record<string, unknown>[]; actions: Record<string, unknown>[] }>(['debug', 'web'], config);
  const report = await cliJson<{ recommendations: Record<string, unknown>[] }>(['reconcile', '--once'], config);
  assert.ok(tickets.length > 0 && actions.length > 0 && debug.tickets.length > 0 && debug.actions.length > 0, 'something to look at');
  // The service something is about is `service` (beside `name` in status, `target` in actions).
  for (const s of status.services) assert.equal(s.service, s.name, `status: ${JSON.stringify(s)}`);
  for (const x of [...tickets, ...debug.tickets]) assert.equal(typeof x.service, 'string', `ticket: ${JSON.stringify(x)}`);
  for (const x of [...actions, ...debug.actions, ...report.recommendations]) assert.equal(x.service, x.target, `action: ${JSON.stringify(x)}`);
  // A lifecycle is `state` (beside `status` in tickets).
  for (const x of [...tickets, ...debug.tickets]) assert.equal(x.state, x.status, `ticket: ${JSON.stringify(x)}`);
  for (const x of [...actions, ...debug.actions]) assert.equal(typeof x.state, 'string', `action: ${JSON.stringify(x)}`);
});
