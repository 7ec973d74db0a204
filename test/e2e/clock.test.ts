// The real daemon under libfaketime, its wall clock stepped back and forth by an hour while repairs
// are verified (monotonic time left real: FAKETIME_DONT_FAKE_MONOTONIC=1). A step backward must not
// stall a verification, a step forward must not resolve one early, and the rate limit must hold
// when the wall clock says the earlier restarts were an hour ago.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startLab, waitFor, WARDEN, type TicketJson } from './harness.js';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';
const STABLE_MS = 3_000;

test('wall-clock steps of ±1h during verification neither resolve, stall nor bypass a rate limit', { skip: !existsSync(LIBFAKETIME) && 'libfaketime is not installed (apt-get install faketime)' }, async (t) => {
  const run = await startLab({ noWorker: true, restartLimit: 2 });
  t.after(() => run.cleanup());
  const config = run.lab.configPath;
  // Only Warden runs under libfaketime: the services get an empty LD_PRELOAD (redis-server does not
  // start under it).
  writeFileSync(config, readFileSync(config, 'utf8')
    .replace('verify: { stable: 500ms, deadline: 15s }', `verify: { stable: ${STABLE_MS}ms, deadline: 60s }`)
    .replace('  - name: cache\n    kind: process\n', '  - name: cache\n    kind: process\n    env: { LD_PRELOAD: "" }\n')
    .replace('env: { PORT:', 'env: { LD_PRELOAD: "", PORT:'));
  const offsetFile = join(run.lab.dir, 'faketime');
  writeFileSync(offsetFile, '+0\n');

  // The harness's Daemon, started under libfaketime instead.
  const daemon = run.daemon;
  daemon.proc = spawn(WARDEN, ['--config', config, 'run'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env, LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: offsetFile,
      FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1',
    },
  });
  daemon.proc.stdout!.on('data', (d: Buffer) => { daemon.output += d.toString(); });
  daemon.proc.stderr!.on('data', (d: Buffer) => { daemon.output += d.toString(); });
  await waitFor(async () => daemon.output.includes('online:') || (daemon.proc?.exitCode != null ? Promise.reject(new Error(daemon.output)) : false), 15_000, 'warden online');
  await run.waitHealthy(['cache', 'web']).catch((err: unknown) => { throw new Error(`${String(err)}; daemon said:\n${daemon.output}`); });

  const webTicket = async (): Promise<TicketJson | undefined> => (await run.tickets()).find((x) => x.service === 'web');
  /** Kills web, steps the wall clock once its repair is being verified, and returns the closed ticket. */
  async function killAndStep(offset: string, occurrence: number): Promise<{ ticket: TicketJson; realMs: number }> {
    process.kill(run.pid('web'), 'SIGKILL');
    await waitFor(async () => { const x = await webTicket(); return x?.occurrences === occurrence && x.status === 'verifying'; }, 20_000, `repair ${occurrence} verifying`);
    writeFileSync(offsetFile, `${offset}\n`);
    const stepped = performance.now();
    const ticket = await waitFor(async () => { const x = await webTicket(); return x?.status === 'resolved' && x; }, 30_000, `repair ${occurrence} resolved`);
    return { ticket, realMs: performance.now() - stepped };
  }

  // Backward: with wall-clock durations this verification would wait an hour (the waitFor would time out).
  const back = await killAndStep('-1h', 1);
  assert.match(back.ticket.reason ?? '', /^healthy for \d+ ms after repair$/);
  const backMs = Number(/(\d+) ms/.exec(back.ticket.reason ?? '')?.[1]);
  assert.ok(backMs >= STABLE_MS && backMs < STABLE_MS + 2_000, back.ticket.reason ?? '');

  // Forward: with wall-clock durations this would resolve at once, "healthy for 3600xxx ms".
  const fwd = await killAndStep('+1h', 2);
  const fwdMs = Number(/(\d+) ms/.exec(fwd.ticket.reason ?? '')?.[1]);
  assert.ok(fwdMs >= STABLE_MS && fwdMs < STABLE_MS + 2_000, fwd.ticket.reason ?? '');
  // libfaketime really stepped the daemon's wall clock: its records carry the stepped time.
  const resolvedAt = Date.parse((fwd.ticket as TicketJson & { resolvedAt: string }).resolvedAt);
  assert.ok(resolvedAt - Date.now() > 3_500_000, `resolvedAt ${new Date(resolvedAt).toISOString()} is an hour ahead`);
  assert.ok(fwd.realMs >= STABLE_MS - 1_000, `resolved ${Math.round(fwd.realMs)} ms after the step: the stable period ran in real time`);

  // Two restarts in the last minute of real time; by the wall clock they were 1-2 hours ago. The
  // third is refused.
  process.kill(run.pid('web'), 'SIGKILL');
  const third = await waitFor(async () => { const x = await webTicket(); return x?.occurrences === 3 && x.status === 'escalated' && x; }, 20_000, 'third failure escalated');
  assert.equal(third.reason, 'limit reached: restart at most 2 per 10m on web (2 used); leaving web alone');
  const restarts = (await run.actions()).filter((a) => a.type === 'restart' && a.target === 'web');
  assert.equal(restarts.length, 2, 'no third restart');
});
