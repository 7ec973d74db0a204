// The rule registry (issue 11, point 2): each rule declares the causes it can produce and the facts
// it needs; a diagnosis keeps every rule that applied as a ranked hypothesis with its citations.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { detect } from '../domain/detect.js';
import { CAUSES } from '../domain/types.js';
import { T0, dead, exitAt, makeConfig, worldOf } from '../testing/domain.js';
import { RULES } from './rulebook.js';
import { diagnose } from './rules.js';

function diagnoseCache(logTail: string[]) {
  const config = makeConfig();
  const world = worldOf(config, T0, { cache: dead([exitAt(T0 - 100, { code: 1, uptimeMs: 40 })]) });
  const problem = detect(config, world, []).problems[0]!;
  return diagnose({ config, world, problem, now: T0, logTail });
}

void describe('the rule registry', () => {
  it('names each rule once and declares causes from the taxonomy and at least one prerequisite', () => {
    assert.equal(new Set(RULES.map((r) => r.name)).size, RULES.length);
    for (const r of RULES) {
      assert.ok(r.causes.length > 0 && r.causes.every((c) => CAUSES.includes(c)), r.name);
      assert.ok(r.needs.length > 0, `${r.name} declares its prerequisites`);
    }
  });

  it('ranks every rule that applied: the chosen first, the others rejected as outranked, each citing evidence', () => {
    const d = diagnoseCache(['Error: listen EADDRINUSE: address already in use 127.0.0.1:6390']);
    assert.equal(d.rootCause.cause, 'config_drift');
    assert.deepEqual(d.hypotheses?.map((h) => [h.rule, h.cause, h.rejected ?? null]), [
      ['log-verdict', 'config_drift', null],
      ['exited', 'process_exited', 'outranked by log-verdict, which comes first'],
    ]);
    for (const h of d.hypotheses ?? []) {
      assert.ok(h.cites.length > 0, `${h.rule} cites evidence`);
      for (const i of h.cites) assert.ok(d.evidence[i], `${h.rule} cites evidence ${i}`);
      assert.ok(RULES.find((r) => r.name === h.rule)?.causes.includes(h.cause), `${h.rule} produced a cause it declares`);
    }
    assert.ok(d.hypotheses?.[0]?.cites.some((i) => d.evidence[i]?.source === 'log'), 'the log verdict cites the log line');
  });

  it('does not judge a rule whose prerequisite the bundle lacks (no log tail: no log verdict)', () => {
    const d = diagnoseCache([]);
    assert.deepEqual(d.hypotheses?.map((h) => h.rule), ['exited']);
    assert.equal(d.rootCause.cause, 'process_exited');
  });
});
