// One writer per state machine (DESIGN rule 9): only the ticket and action machines change state,
// and only the committing modules persist what they return. A scan of the source keeps it so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const files = sources(join(ROOT, 'src')).map((f) => ({ file: relative(ROOT, f), text: readFileSync(f, 'utf8') }));

/** Modules that persist what the machines return: the reconciler's commit, people's commands, the executor. */
const PERSISTERS = ['src/loop/reconciler.ts', 'src/app/commands.ts', 'src/app/control.ts', 'src/app/hosts.ts', 'src/loop/executor.ts', 'src/store/store.ts', 'src/testing/domain.ts', 'src/runtime/testing.ts'];
/** The machines themselves, and the fixtures that build test data. */
const MACHINES = ['src/domain/ticket.ts', 'src/domain/action.ts', 'src/testing/domain.ts'];

test('only the committing modules write ticket or action rows', () => {
  const offenders = files.filter((f) => !PERSISTERS.includes(f.file) && /\.put(Ticket|Action)\(/.test(f.text)).map((f) => f.file);
  assert.deepEqual(offenders, []);
});

test('only the state machines set a ticket status or an action state', () => {
  // Assignments such as `t.status = 'held'`, `a.state = x` or `{ ...a, state: 'cancelled' }`.
  const pattern = /\b(?:t|a|ticket|action|next|cur)\.(?:status|state)\s*=[^=]|\.\.\.(?:t|a|cur|ticket|action)\b[^}]*\b(?:status|state):/;
  const offenders = files.filter((f) => !MACHINES.includes(f.file) && pattern.test(f.text)).map((f) => f.file);
  assert.deepEqual(offenders, []);
});
