// A ticket tells the story of each occurrence, on real processes through the CLI: the cache is
// killed three times in a row; each occurrence keeps its own diagnosis and verification outcome, and
// at the flap threshold (3) automation stops with the reason instead of a third restart.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { cli, cliJson, startLab, waitFor, type TicketJson } from './harness.js';

interface Story {
  n: number; openedAt: string; resolvedAt: string | null; reason: string | null; cause: string | null; actionIds: string[];
  findings: { kind: string; service: string }[];
  diagnosis: { rootCause: { cause: string }; evidence: { source: string; fact: string }[] } | null;
  verification: { outcome: 'held'; at: string; healthyForMs: number; tookMs: number } | { outcome: 'failed'; at: string; reason: string } | null;
}
type Shown = TicketJson & { flapping: boolean; history: Story[] };

test('three kills in a row: three occurrence records, and the third stops automation as flapping', async (t) => {
  const run = await startLab({ noWorker: true, restartLimit: 10 });
  t.after(() => run.cleanup());
  // Three kills within a minute would read as a crash loop (3 exits in 60s), which is not flapping:
  // this test is about a problem that keeps coming back after each repair held.
  const cfg = readFileSync(run.lab.configPath, 'utf8');
  writeFileSync(run.lab.configPath, cfg.replace('crashLoop: { exits: 3, window: 60s }', 'crashLoop: { exits: 10, window: 60s }'));
  await run.daemon.start();
  await run.waitHealthy(['cache', 'web']);

  const cacheTicket = async (): Promise<Shown | undefined> => {
    const tk = (await run.tickets()).find((x) => x.service === 'cache');
    return tk && cliJson<Shown>(['tickets', 'show', tk.id], run.lab.configPath);
  };
  for (const n of [1, 2]) {
    process.kill(run.pid('cache'), 'SIGKILL');
    await waitFor(async () => { const tk = await cacheTicket(); return tk?.occurrences === n && tk.status === 'resolved' ? tk : undefined; }, 20_000, `occurrence ${n} repaired and verified`);
    await run.waitHealthy(['cache', 'web']);
  }
  process.kill(run.pid('cache'), 'SIGKILL');
  const tk = await waitFor(async () => { const x = await cacheTicket(); return x?.occurrences === 3 && x.status === 'escalated' ? x : undefined; }, 20_000, 'occurrence 3 escalated');

  assert.equal(tk.flapping, true);
  assert.equal(tk.reason, 'flapping: 3 occurrences, each back within 10m of being resolved; automation stopped; resolve by hand to resume');
  assert.deepEqual(tk.history.map((o) => o.n), [1, 2, 3]);
  for (const o of tk.history) {
    assert.equal(o.cause, 'process_exited', `occurrence ${o.n}`);
    assert.equal(o.findings.find((f) => f.service === 'cache')?.kind, 'missing_service', `occurrence ${o.n}`);
    assert.ok(o.diagnosis?.evidence.some((e) => /SIGKILL/.test(e.fact)), `occurrence ${o.n} cites the kill: ${JSON.stringify(o.diagnosis?.evidence)}`);
  }
  // Each occurrence's evidence is its own (a different pid was killed each time).
  const facts = tk.history.map((o) => JSON.stringify(o.diagnosis?.evidence));
  assert.equal(new Set(facts).size, 3, 'three different evidence sets');
  const [first, second, third] = tk.history;
  for (const o of [first!, second!]) {
    assert.equal(o.actionIds.length, 1, `occurrence ${o.n} was repaired once`);
    assert.ok(o.verification?.outcome === 'held' && o.verification.healthyForMs >= 500, `occurrence ${o.n}: ${JSON.stringify(o.verification)}`);
    assert.ok(o.resolvedAt !== null);
  }
  assert.deepEqual(third!.actionIds, [], 'no third restart: automation stopped');
  assert.equal(third!.verification, null);
  assert.equal(third!.resolvedAt, null);
  const restarts = (await run.actions()).filter((a) => a.target === 'cache' && a.type === 'restart');
  assert.equal(restarts.length, 2);

  // The human form tells the same story, one block per occurrence.
  const human = await cli(['tickets', 'show', tk.id], { config: run.lab.configPath });
  assert.equal(human.code, 0, human.stderr);
  for (const line of [/occurrence 1 {3}opened/, /occurrence 2 {3}opened/, /occurrence 3 \(current\)/, /verification held: healthy for/, /flapping: 3 occurrences/]) {
    assert.match(human.stdout, line);
  }
});
