// The effect runner feeds the metrics from committed passes: health on change, and each ticket
// occurrence counted once by cause at its first diagnosis, a reopened one included.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DecideOutput } from '../domain/decide.js';
import { SimulatedClock } from '../testing/clock.js';
import { BOOT, dead, Driver, makeConfig, M0, T0 } from '../testing/domain.js';
import { WardenMetrics } from '../runtime/metrics.js';
import { Store } from '../store/store.js';
import { EffectRunner, type EffectRunnerDeps } from './effects.js';

const value = (text: string, series: string): string | undefined => text.split('\n').find((l) => l.startsWith(`${series} `))?.slice(series.length + 1);

test('metrics from passes: health 0 then 1, one count per ticket occurrence by cause', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-effects-'));
  const store = Store.open(dir, { stamp: () => ({ mono: M0, boot: BOOT }) });
  t.after(() => { store.close(); rmSync(dir, { recursive: true, force: true }); });
  const d = new Driver(makeConfig());
  const metrics = new WardenMetrics({ defaultMetrics: false });
  const deps: EffectRunnerDeps = {
    store, config: () => d.config, clock: new SimulatedClock(T0, M0), metrics,
    // The executor, diagnosis runner and scheduler are the Driver's business here.
    executor: { run: () => undefined } as unknown as EffectRunnerDeps['executor'],
    diagnoses: { run: () => undefined } as unknown as EffectRunnerDeps['diagnoses'],
    scheduler: { boost: () => undefined } as unknown as EffectRunnerDeps['scheduler'],
    log: () => undefined, announce: () => undefined, wakeIn: () => undefined, boot: () => BOOT, onFirstPass: () => undefined,
  };
  const runner = new EffectRunner(deps);
  const feed = (out: DecideOutput): void => {
    const open = [...d.tickets.values()].filter((x) => x.status !== 'resolved');
    runner.run({ world: d.world(), now: d.now, out, open, pending: [], commands: [], busy: true });
  };
  const repair = (): void => {
    feed(d.pass({ cache: dead() }));
    d.executeAll();
    feed(d.advance(10).pass());
    feed(d.advance(10).pass());
    feed(d.advance(d.config.agent.verifyStableMs).pass());
    assert.equal(d.onlyTicket().status, 'resolved');
  };
  const health = 'warden_service_healthy{service="cache",host="local"}';
  const opened = 'warden_tickets_opened_total{cause="process_exited"}';

  feed(d.pass());
  assert.equal(value(await metrics.text(), health), '1');
  feed(d.advance(10).pass({ cache: dead() }));
  let text = await metrics.text();
  assert.equal(value(text, health), '0');
  assert.equal(value(text, opened), '1');
  d.executeAll();
  for (const _ of [1, 2]) feed(d.advance(10).pass());
  feed(d.advance(d.config.agent.verifyStableMs).pass());
  text = await metrics.text();
  assert.equal(d.onlyTicket().status, 'resolved');
  assert.equal(value(text, health), '1');
  assert.equal(value(text, opened), '1', 'counted once, however many passes the occurrence spans');

  // The same problem again within the reopen window: the same ticket, a second occurrence.
  d.advance(60_000);
  repair();
  assert.equal(d.onlyTicket().occurrences, 2);
  assert.equal(value(await metrics.text(), opened), '2', 'a reopened occurrence counts, even with an identical diagnosis');
});
