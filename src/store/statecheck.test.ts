import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { applyCommand } from '../app/commands.js';
import { proposeAction, transitionAction } from '../domain/action.js';
import type { AuditIntent } from '../domain/audit.js';
import { openTicket, transitionTicket } from '../domain/ticket.js';
import { dbPath, Store } from './store.js';

const now = { wall: 1000, mono: 1, boot: 'b' };
const ctx = { now: 1000, actor: 'otto' };

function audit(s: Store, intents: AuditIntent[]): void {
  for (const i of intents) s.audit({ at: 1000, actor: 'otto', kind: i.kind, subject: i.subject, data: i.data });
}

/** A store with history made the way Warden makes it: a ticket, its action run to completion, a freeze. */
function history(): { dir: string; raw: () => Database.Database } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-state-'));
  const s = Store.open(dir);
  s.transaction(() => {
    const t = openTicket('T1', { fingerprint: 'fp', service: 'api', host: 'local', findings: [] }, ctx);
    const t2 = transitionTicket(t.next, { type: 'status', to: 'remediating', reason: 'restart' }, ctx);
    s.putTicket(t2.next);
    audit(s, [...t.audit, ...t2.audit]);
    let a = proposeAction({ id: 'A1', type: 'restart', target: 'api', params: {}, ticketId: 'T1', idempotencyKey: 'k1', state: 'validated', why: {} }, ctx);
    audit(s, a.audit);
    for (const e of [{ type: 'start' }, { type: 'complete', detail: 'ok' }] as const) {
      a = transitionAction(a.next, e, ctx);
      audit(s, a.audit);
    }
    s.putAction(a.next);
  });
  assert.equal(applyCommand(s, { kind: 'freeze', by: 'person:ann', reason: 'maintenance' }, now).ok, true);
  s.close();
  return { dir, raw: () => new Database(dbPath(dir)) };
}

function verify(dir: string): { ok: boolean; reasons: string[] } {
  const s = Store.open(dir, { readonly: true });
  try {
    const v = s.verifyAudit();
    return { ok: v.ok, reasons: v.problems.map((p) => p.reason) };
  } finally {
    s.close();
  }
}

function edit(h: ReturnType<typeof history>, sql: string): void {
  const db = h.raw();
  db.exec(sql);
  db.close();
}

void describe('audit verify checks the state the chain vouches for', () => {
  void it('a store written by Warden verifies', () => {
    const h = history();
    assert.deepEqual(verify(h.dir), { ok: true, reasons: [] });
  });

  void it('the kill switch removed by hand is caught', () => {
    const h = history();
    edit(h, `DELETE FROM flags WHERE key = 'frozen'`);
    const v = verify(h.dir);
    assert.equal(v.ok, false);
    assert.match(v.reasons.join('\n'), /kill switch \(flag "frozen"\) is not set, but record \d+ set it .* removed outside Warden/);
  });

  void it('the kill switch set by hand, or its author changed, is caught', () => {
    const h = history();
    edit(h, `UPDATE flags SET value = json_set(value, '$.by', 'person:mallory') WHERE key = 'frozen'`);
    assert.match(verify(h.dir).reasons.join('\n'), /set by is "person:mallory" but the audit chain recorded "person:ann"/);
    const h2 = history();
    const s = Store.open(h2.dir);
    assert.equal(applyCommand(s, { kind: 'unfreeze', by: 'person:ann' }, now).ok, true);
    s.close();
    assert.equal(verify(h2.dir).ok, true);
    edit(h2, `INSERT INTO flags (key, value) VALUES ('frozen', '{"by":"person:ann","reason":"x"}')`);
    assert.match(verify(h2.dir).reasons.join('\n'), /kill switch .* is set, but record \d+ lifted it/);
  });

  void it('an action row edited, deleted or added by hand is caught', () => {
    const h = history();
    edit(h, `UPDATE actions SET state = 'failed', json = json_set(json, '$.state', 'failed') WHERE id = 'A1'`);
    assert.match(verify(h.dir).reasons.join('\n'), /action A1: state is "failed" but the audit chain recorded "completed"/);
    const h2 = history();
    edit(h2, `UPDATE actions SET json = json_set(json, '$.target', 'db') WHERE id = 'A1'`);
    assert.match(verify(h2.dir).reasons.join('\n'), /action A1: target is "api \(json: db\)"/);
    const h3 = history();
    edit(h3, `DELETE FROM actions WHERE id = 'A1'`);
    assert.match(verify(h3.dir).reasons.join('\n'), /action A1: recorded .* its row is gone/);
    const h4 = history();
    edit(h4, `INSERT INTO actions (id, ticket_id, type, target, state, idempotency_key, created_at, json)
      SELECT 'A9', ticket_id, type, target, state, 'k9', created_at, json_set(json, '$.id', 'A9') FROM actions WHERE id = 'A1'`);
    assert.match(verify(h4.dir).reasons.join('\n'), /action A9: the row has no action.proposed record — it was added outside Warden/);
  });

  void it('a ticket\'s status edited by hand is caught', () => {
    const h = history();
    edit(h, `UPDATE tickets SET status = 'resolved', json = json_set(json, '$.status', 'resolved') WHERE id = 'T1'`);
    assert.match(verify(h.dir).reasons.join('\n'), /ticket T1: status is "resolved" but the audit chain recorded "remediating"/);
  });
});
