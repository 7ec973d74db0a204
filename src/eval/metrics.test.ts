import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FaultResult } from '../demo/demo.js';
import { runOrder } from './campaign.js';
import { computeMetrics, percentile, type RunRecord } from './metrics.js';

function run(scenario: string, r: Partial<FaultResult>, extra: Partial<RunRecord> = {}): RunRecord {
  const result: FaultResult = {
    fault: scenario, detectMs: null, rootCause: '-', action: 'none', recoverMs: null, outcome: '', ok: true, why: '',
    expect: { service: 'web', cause: 'process_exited', actions: ['restart web'], status: 'resolved' }, ticket: null, tickets: 0, actions: [], needless: 0, ...r,
  };
  return { scenario, repetition: 1, covered: true, aiopslab: null, result, error: null, ...extra };
}
const ticket = (rootService: string, cause: FaultResult['expect']['cause'], status: string): FaultResult['ticket'] => ({ id: 'T1', service: rootService, rootService, cause, status });
const none = { service: '-', cause: 'unknown' as const, actions: [], status: 'none' as const };

void describe('eval metrics', () => {
  const records = [
    run('kill', { ticket: ticket('web', 'process_exited', 'resolved'), detectMs: 10, recoverMs: 100 }),
    run('wrong-cause', { ticket: ticket('web', 'process_hung', 'resolved'), detectMs: 30, recoverMs: 300, ok: false }),
    run('wrong-service', { ticket: ticket('cache', 'process_exited', 'escalated'), detectMs: 20, ok: false, needless: 1 }, { covered: false }),
    run('missed', { ok: false }),
    run('idle', { expect: none }),
    run('noisy', { expect: none, ticket: ticket('web', 'unknown', 'resolved'), actions: ['restart web completed'], needless: 1, ok: false }),
    run('not-root', { ok: false }, { error: 'needs root' }),
  ];
  const m = computeMetrics(records);

  it('counts fault runs and controls apart, and leaves out runs that could not be set up', () => {
    assert.deepEqual([m.runs, m.faultRuns, m.controlRuns, m.errors], [7, 4, 2, 1]);
  });
  it('detection, localization and root cause are over fault runs; root cause needs service and cause', () => {
    assert.deepEqual(m.detection, { rate: 0.75, hits: 3, of: 4 });
    assert.deepEqual(m.localization, { rate: 0.5, hits: 2, of: 4 });
    assert.deepEqual(m.rootCause, { rate: 0.25, hits: 1, of: 4 });
    assert.deepEqual(m.rootCauseCovered, { rate: 1 / 3, hits: 1, of: 3 });
  });
  it('mitigation is the expected end; false positives are controls with a ticket or an action', () => {
    assert.deepEqual(m.mitigation, { rate: 0.5, hits: 2, of: 4 });
    assert.deepEqual(m.falsePositives, { rate: 0.5, hits: 1, of: 2 });
    assert.equal(m.needlessActions, 2);
  });
  it('times are nearest-rank percentiles of the runs that have them', () => {
    assert.deepEqual(m.timeToDetectMs, { p50: 20, p95: 30, n: 3 });
    assert.deepEqual(m.timeToMitigateMs, { p50: 100, p95: 300, n: 2 });
    assert.equal(percentile([], 50), null);
    assert.equal(percentile([1, 2, 3, 4], 50), 2);
  });
  it('LLM calls and tokens are 0 with rules only', () => {
    assert.deepEqual(m.llm, { calls: 0, tokens: 0 });
  });
  it('a seed gives the same order every time, another seed another order; repeats are all there', () => {
    const names = ['a', 'b', 'c', 'd', 'e'];
    assert.deepEqual(runOrder(names, 2, 7), runOrder(names, 2, 7));
    assert.notDeepEqual(runOrder(names, 2, 7), runOrder(names, 2, 8));
    assert.equal(runOrder(names, 3, 1).filter((r) => r.scenario === 'c').length, 3);
  });
});
