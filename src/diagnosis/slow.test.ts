// A dependency that answers, but later than its check's latency bound (`slowerThan`): degraded, not
// down, hung or cut off. The rule names the slow service, cites the time it measured, leaves the
// dependents (whose failures are its symptoms) alone, and restarts nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { detect } from '../domain/detect.js';
import { evidenceKey } from '../domain/evidence.js';
import { T0, checkState, makeConfig, running, tcpCheck, worldOf } from '../testing/domain.js';
import type { CheckState } from '../domain/types.js';
import { diagnose } from './rules.js';

const direct = tcpCheck(6390);
const viaLink = tcpCheck(6400, { id: 'via-link', slowerThanMs: 50 });

/** A check whose expected answer came 123.4 ms after the probe started: past its 50 ms bound. */
function slow(id: string): CheckState {
  const s = checkState(id, 'failing');
  s.last = { ok: false, message: 'answered "+PONG", but slower than 50 ms', latencyMs: 123.4, timedOut: false, slowerThanMs: 50, at: T0 };
  return s;
}

function problemOf(cache: CheckState[], web: 'healthy' | 'failing') {
  const config = makeConfig({ override: { cache: { checks: [direct, viaLink] } } });
  const world = worldOf(config, T0, { cache: { process: running(), checks: cache }, web: { process: running(), checks: web } });
  const problems = detect(config, world, []).problems;
  return { config, world, problems };
}

void describe('diagnose: a dependency that answers too slowly', () => {
  it('is performance_degraded of the slow dependency, citing the time measured; its dependents are symptoms; nothing restarted', () => {
    const { config, world, problems } = problemOf([checkState('tcp#0', 'healthy'), slow('via-link')], 'failing');
    assert.deepEqual(problems.map((p) => p.service), ['cache'], 'one problem, rooted at the slow cache');
    const problem = problems[0]!;
    assert.deepEqual(problem.findings.map((f) => [f.service, f.dependencyDown ?? null]), [['cache', null], ['web', 'cache']]);
    const d = diagnose({ config, world, problem, now: T0, logTail: [] });
    assert.deepEqual(d.rootCause, { service: 'cache', host: 'local', cause: 'performance_degraded' });
    assert.deepEqual(d.recommended, []);
    const cited = d.evidence.find((e) => e.source === 'check:via-link' && e.fact.startsWith('answered'));
    assert.equal(cited?.fact, 'answered in 123 ms at 127.0.0.1:6400, slower than its bound of 50 ms (2 in a row)');
    assert.ok(d.hypotheses?.[0]?.cites.includes(d.evidence.indexOf(cited)), 'the chosen hypothesis cites the latency');
    assert.equal(d.hypotheses?.[0]?.rule, 'slow-answer');
    assert.match(d.noRepair ?? '', /^cache answers, but slower than its bound at 127\.0\.0\.1:6400/);
    assert.match(d.alternatives.find((a) => a.cause === 'process_hung')?.rejected ?? '', /answers .* in 123 ms/);
    assert.match(d.alternatives.find((a) => a.cause === 'network_partition')?.rejected ?? '', /arrive/);
  });

  it('every check slow, its own address too: still performance_degraded of the service itself', () => {
    const { config, world, problems } = problemOf([slow('tcp#0'), slow('via-link')], 'healthy');
    const d = diagnose({ config, world, problem: problems[0]!, now: T0, logTail: [] });
    assert.deepEqual(d.rootCause, { service: 'cache', host: 'local', cause: 'performance_degraded' });
  });

  it('a refusal beside the slow answer is not this rule: something failed outright', () => {
    const { config, world, problems } = problemOf([checkState('tcp#0', 'failing'), slow('via-link')], 'healthy');
    assert.notEqual(diagnose({ config, world, problem: problems[0]!, now: T0, logTail: [] }).rootCause.cause, 'performance_degraded');
  });

  it('a check turning from refused to slow is new evidence: the diagnosis is asked again', () => {
    const before = problemOf([checkState('tcp#0', 'healthy'), checkState('via-link', 'failing')], 'healthy');
    const after = problemOf([checkState('tcp#0', 'healthy'), slow('via-link')], 'healthy');
    const at = { wall: T0, mono: T0, boot: 'b' };
    assert.notEqual(evidenceKey(after.config, after.world, after.problems[0]!, at), evidenceKey(before.config, before.world, before.problems[0]!, at));
  });
});
