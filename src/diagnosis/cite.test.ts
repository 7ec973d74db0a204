// A rules diagnosis cites the evidence pieces it rests on by their ids (Evidence.piece), the ids
// `warden debug` lists, so a person can follow each line of `warden explain` to the piece. Every
// cited id must be a piece of the very bundle the diagnosis was made from.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { detect } from '../domain/detect.js';
import { T0, checkState, dead, exitAt, makeConfig, running, stopped, tcpCheck, worldOf, type ServiceView } from '../testing/domain.js';
import type { Diagnosis, ProcessState } from '../domain/types.js';
import { evidencePieces } from './pieces.js';
import { diagnose, type DiagnoseInput } from './rules.js';

function diagnosed(views: Record<string, ProcessState | ServiceView>, logTail: string[] = []): { d: Diagnosis; ids: Set<string> } {
  const config = makeConfig({ override: { cache: { checks: [tcpCheck(6390)] } } });
  const world = worldOf(config, T0, views);
  const problem = detect(config, world, []).problems[0];
  assert.ok(problem, 'expected a problem');
  const input: DiagnoseInput = { config, world, problem, now: T0, logTail };
  const d = diagnose(input);
  const ids = new Set(evidencePieces(input).map((p) => p.id));
  for (const e of d.evidence) if (e.piece !== undefined) assert.ok(ids.has(e.piece), `${e.piece} (for "${e.fact}") is a piece of the bundle: ${[...ids].join(', ')}`);
  return { d, ids };
}

const pieceOf = (d: Diagnosis, source: string): string | undefined => d.evidence.find((e) => e.source === source)?.piece;

void describe('a rules diagnosis cites the pieces of its bundle by id', () => {
  it('a killed process: its process and its last exit', () => {
    const { d } = diagnosed({ cache: dead([exitAt(T0 - 2000, { signal: 'SIGKILL', uptimeMs: 1234 })]) });
    assert.equal(pieceOf(d, 'process'), 'process:cache');
    assert.equal(pieceOf(d, 'exits'), `exit:cache:${T0 - 2000}`);
  });

  it('a hung process: its failing check; its dependents: their findings', () => {
    const { d } = diagnosed({ cache: { process: stopped({ pid: 99 }), checks: 'timedOut' }, web: { process: running(), checks: 'failing' } });
    assert.equal(pieceOf(d, 'check:tcp#0'), 'check:cache:tcp#0');
    assert.equal(pieceOf(d, 'dependsOn'), 'finding:web:unhealthy_service');
  });

  it('a log line that decides the cause: that line of the tail, counted from its oldest', () => {
    const tail = ['old line', '2025-01-01T00:00:00.000Z [warden] starting: node cache.js', 'Error: listen EADDRINUSE: address already in use 127.0.0.1:7411'];
    const { d } = diagnosed({ cache: dead([exitAt(T0 - 1000)]) }, tail);
    assert.equal(d.rootCause.cause, 'config_drift');
    assert.equal(pieceOf(d, 'log'), 'log:cache:2');
  });

  it('a slow answer: the slow check', () => {
    const slow = checkState('tcp#0', 'failing');
    slow.last = { ok: false, message: 'answered, but slower than 50 ms', latencyMs: 120, timedOut: false, slowerThanMs: 50, at: T0 };
    const { d } = diagnosed({ cache: { process: running(), checks: [slow] } });
    assert.equal(d.rootCause.cause, 'performance_degraded');
    assert.ok(d.evidence.filter((e) => e.source === 'check:tcp#0').every((e) => e.piece === 'check:cache:tcp#0'));
  });
});
