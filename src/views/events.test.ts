import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditListFilter, AuditRecord } from '../store/store.js';
import { followAudit, parseTimeArg, TimeArgError } from './events.js';

test('times: ISO, or a duration ago; anything else is an error', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  assert.equal(parseTimeArg('10m', now), now - 600_000);
  assert.equal(parseTimeArg('1h30m', now), now - 5_400_000);
  assert.equal(parseTimeArg('2024-05-01T10:00:00Z', now), Date.parse('2024-05-01T10:00:00Z'));
  for (const bad of ['yesterday', '10', '', '5 minutes']) assert.throws(() => parseTimeArg(bad, now), TimeArgError, bad);
});

test('followAudit yields each record once, in order, across polls, and stops on abort', async () => {
  const log: AuditRecord[] = [];
  const add = (): void => {
    const seq = log.length + 1;
    log.push({ seq, at: seq, actor: 'otto', kind: 'ticket.opened', subject: `T${seq}`, data: {}, prevHash: '', hash: '' });
  };
  add();
  add();
  const asked: AuditListFilter[] = [];
  const source = { listAudit: (f: AuditListFilter) => { asked.push(f); return log.filter((r) => r.seq > (f.afterSeq ?? 0)); } };
  const ctl = new AbortController();
  const seen: number[] = [];
  for await (const r of followAudit(source, { afterSeq: 1, signal: ctl.signal, pollMs: 1, filter: { kind: 'ticket' } })) {
    seen.push(r.seq);
    if (seen.length < 4) add(); // a record committed while following
    else ctl.abort();
  }
  assert.deepEqual(seen, [2, 3, 4, 5]);
  assert.ok(asked.every((f) => f.kind === 'ticket'), 'the filter reaches the store');
});
