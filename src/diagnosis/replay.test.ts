// Determinism (issue 11, point 2): the same evidence gives the same diagnosis. The fixtures are
// evidence bundles recorded from real runs of the fault catalog (`warden eval`, one lab each; see
// fixtures/README.md), with the diagnosis the rules gave then. Replaying each must give it again,
// twice in a row, whatever the clock of the machine that replays it says.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Diagnosis } from '../domain/types.js';
import { diagnose, type DiagnoseInput } from './rules.js';
import { evidencePieces } from './pieces.js';

// Tests run from dist/src/diagnosis; the fixtures stay in the source tree.
const DIR = fileURLToPath(new URL('../../../src/diagnosis/fixtures/', import.meta.url));

interface Recorded { bundle: DiagnoseInput; diagnosis: Diagnosis }

const fixtures = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

void describe('diagnose: recorded evidence replays to the recorded diagnosis', () => {
  it('has fixtures from the catalog', () => {
    assert.ok(fixtures.length >= 8, `fixtures in ${DIR}: ${fixtures.join(', ')}`);
  });
  for (const f of fixtures) {
    it(f.replace(/\.json$/, ''), () => {
      const rec = JSON.parse(readFileSync(DIR + f, 'utf8')) as Recorded;
      const first = diagnose(structuredClone(rec.bundle));
      const second = diagnose(structuredClone(rec.bundle));
      assert.deepEqual(first, second, 'the same evidence twice gives the same diagnosis');
      assert.deepEqual(strip(first), strip(rec.diagnosis));
      assert.equal(first.hypotheses?.[0]?.cause ?? 'unknown', first.rootCause.cause, 'the first hypothesis is the diagnosis');
      // Every citation can be followed: it names a piece of the bundle the diagnosis was made from.
      const ids = new Set(evidencePieces(rec.bundle).map((p) => p.id));
      for (const e of first.evidence) if (e.piece !== undefined) assert.ok(ids.has(e.piece), `${e.piece} is a piece of the bundle`);
      assert.ok(first.evidence.some((e) => e.piece !== undefined), 'it cites at least one piece');
    });
  }
});

/**
 * The ranked hypotheses and the evidence's piece ids are checked on their own: the fixtures were
 * recorded before either existed.
 */
function strip(d: Diagnosis): Diagnosis {
  const { hypotheses: _h, ...rest } = d as Diagnosis & { hypotheses?: unknown };
  return { ...rest, evidence: rest.evidence.map(({ source, fact }) => ({ source, fact })) } as Diagnosis;
}
