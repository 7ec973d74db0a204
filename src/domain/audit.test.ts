// docs/events.md is the public list of event kinds; it must name exactly the kinds the code writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_KINDS, NOTIFY_KINDS } from './audit.js';

const doc = readFileSync(join(import.meta.dirname, '..', '..', '..', 'docs', 'events.md'), 'utf8');

function tableKinds(heading: string): string[] {
  const section = doc.split(/^## /m).find((s) => s.startsWith(heading)) ?? '';
  return [...section.matchAll(/^\| `([a-z_]+\.[a-z_]+)` \|/gm)].map((m) => m[1]!);
}

test('docs/events.md lists every audit kind, and only those', () => {
  assert.deepEqual(tableKinds('Audit kinds'), [...AUDIT_KINDS]);
});

test('docs/events.md lists every notification kind, and only those', () => {
  assert.deepEqual(tableKinds('Notification kinds'), [...NOTIFY_KINDS]);
});
