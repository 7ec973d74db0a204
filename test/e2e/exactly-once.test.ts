// Exactly-once under timeouts and under kill -9 of Warden, end to end with the real `bin/warden
// run` and real processes. WARDEN_CRASH_TRIALS sets how many rounds over the three crash points
// run here (default 1: one trial per point); bench/crash-soak.ts runs hundreds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FAULT_POINTS } from '../../src/lib/fault.js';
import { waitFor } from '../../src/lib/wait.js';
import { crashTrial, deploy, makeOnceLab, readStore, Warden } from './exactly-once.js';

const ROUNDS = Math.max(1, Number(process.env.WARDEN_CRASH_TRIALS ?? 1) || 1);

test('a restart slower than its timeout is aborted, re-observed, and gives exactly one new process', async (t) => {
  // The worker ignores SIGTERM and its stop grace (10 s) outlasts the action's timeout (1.5 s).
  const lab = await makeOnceLab({ workerEnv: { SLOW_STOP: '1' }, stopGrace: '10s' });
  t.after(() => lab.cleanup());
  await deploy(lab);
  const w = new Warden(lab.configPath, { WARDEN_ACTION_TIMEOUT_MS: '1500' });
  t.after(() => w.kill());
  await w.online();
  const [hung] = lab.alive();
  process.kill(hung!, 'SIGSTOP');
  const restart = await waitFor(() => readStore(lab.dataDir, (s) => s.listActions({})
    .find((a) => a.type === 'restart' && (a.state === 'completed' || a.state === 'failed'))), 30_000, 'the restart to end', { retryErrors: true });
  await waitFor(() => readStore(lab.dataDir, (s) => s.listTickets({ openOnly: true }).length === 0 && lab.alive().length === 1), 30_000, 'ticket closed', { retryErrors: true });
  await w.stop();
  const tickets = readStore(lab.dataDir, (s) => s.listTickets({}));
  assert.deepEqual(tickets.map((x) => x.status), ['resolved'], 'one ticket, resolved');
  assert.equal(restart.state, 'completed');
  assert.equal(restart.attempts, 2, 'the timed-out attempt, then one retry after the world showed no restart');
  assert.match(w.output, /timed out after 1500 ms; not running → continue/);
  assert.equal(lab.starts().length, 2, 'the deploy, then exactly one new process');
  assert.deepEqual(lab.alive(), [lab.starts()[1]], 'the one running worker is the new one');
  const restarts = readStore(lab.dataDir, (s) => s.listActions({}).filter((a) => a.type === 'restart'));
  assert.equal(restarts.length, 1, 'one restart action');
});

test(`kill -9 of Warden at every step of a restart gives exactly one new process (${ROUNDS} round(s))`, async (t) => {
  const lab = await makeOnceLab();
  t.after(() => lab.cleanup());
  await deploy(lab);
  for (let round = 0; round < ROUNDS; round++) {
    for (const point of FAULT_POINTS) {
      const r = await crashTrial(lab, point);
      t.diagnostic(JSON.stringify(r));
      assert.equal(r.faultedBy, 'SIGKILL', `Warden died at ${point}`);
      assert.deepEqual(
        { newStarts: r.newStarts, aliveAfter: r.aliveAfter, actionState: r.actionState, attempts: r.attempts, executions: r.executions },
        { newStarts: 1, aliveAfter: 1, actionState: 'completed', attempts: 1, executions: 1 },
        `round ${round}, crash ${point}`,
      );
    }
  }
});
