// Repairs wait their turn, on real processes through the CLI: a crash-looping worker's restarts are
// spaced by its backoff (the first one immediate), and a service that listens seconds after it
// starts is left to start within its startPeriod instead of being killed mid-start.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, LAB } from '../../src/demo/lab.js';
import { cliJson, startLab, waitFor, type ActionJson, type TicketJson } from './harness.js';

type Timed = ActionJson & { startedAt: string | null };

test('a crash loop: restarts spaced by the backoff, doubling to its cap, the wait shown on the ticket', async (t) => {
  const run = await startLab({ restartLimit: 20, noWorker: false, workerExtra: '    restartBackoff: { initial: 500ms, max: 2s }\n' });
  t.after(() => run.cleanup());
  await run.daemon.start();
  await run.waitHealthy(['cache', 'web', 'worker']);

  writeFileSync(run.lab.poisonFile, 'garbage'); // every later start fails 100 ms in
  process.kill(run.pid('worker'), 'SIGKILL');
  // While the loop goes on, `tickets show` says what the next restart waits for.
  const waiting = await waitFor(async () => {
    const tk = (await run.tickets()).find((x) => x.service === 'worker');
    if (!tk) return undefined;
    const shown = await cliJson<TicketJson>(['tickets', 'show', tk.id], run.lab.configPath);
    return /^waiting [\d.]+ m?s before restart \d+ \(backoff\)$/.test(shown.reason ?? '') ? shown : undefined;
  }, 20_000, 'a backoff wait on the worker ticket');
  assert.equal(waiting.status, 'remediating');

  // Five failed repairs end the loop (the backstop); by then five restarts have run.
  const tk = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'worker' && x.status === 'escalated'), 40_000, 'worker escalated');
  const restarts = (await cliJson<Timed[]>(['actions', 'list', '--limit', '1000'], run.lab.configPath))
    .filter((a) => a.ticketId === tk.id && a.type === 'restart' && a.startedAt !== null)
    .map((a) => Date.parse(a.startedAt!))
    .sort((x, y) => x - y);
  assert.equal(restarts.length, 5, 'five restarts before the backstop');
  const gaps = restarts.slice(1).map((at, i) => at - restarts[i]!);
  // Restart n waits min(500 ms · 2^(n−2), 2 s) after restart n−1 started (start times are wall
  // stamps of monotonic decisions: a millisecond of rounding is allowed).
  const owed = [500, 1000, 2000, 2000];
  gaps.forEach((g, i) => assert.ok(g >= owed[i]! - 1, `restart ${i + 2} came ${g} ms after the previous one; it owes ${owed[i]} ms (gaps ${gaps.join(', ')})`));
});

test('a slow start within startPeriod is not a hang; without it, the same start is killed', async (t) => {
  const [patient, impatient] = [await freePort(), await freePort()];
  const slow = (name: string, port: number, extra: string): string => `  - name: ${name}
    start: [node, ${join(LAB, 'web.mjs')}]
    env: { PORT: "${port}", REDIS_PORT: "0", START_DELAY_MS: "3000" }
    stopGrace: 2s
${extra}    checks:
      - http: { url: "http://127.0.0.1:${port}/healthz", expectStatus: 200 }
        interval: 250ms
        timeout: 200ms
        failures: 2
`;
  const run = await startLab({ noWorker: true, extraServices: slow('patient', patient, '    startPeriod: 5s\n') + slow('impatient', impatient, '') });
  t.after(() => run.cleanup());
  await run.daemon.start();
  // The service without a start period fails its check before it listens and is restarted.
  await waitFor(async () => (await run.actions()).some((a) => a.target === 'impatient' && a.type === 'restart'), 20_000, 'impatient restarted');
  await run.waitHealthy(['patient'], 20_000);
  const actions = (await run.actions()).filter((a) => a.target === 'patient');
  assert.deepEqual(actions.map((a) => `${a.type} ${a.state}`), ['start completed'], 'started once, never restarted');
  assert.deepEqual((await run.tickets()).filter((x) => x.service === 'patient'), [], 'no ticket for a slow start');
});
