import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Store, isStoreError } from './store.js';
import type { AuditVerification } from './store.js';
import { GENESIS_HASH, canonicalJson } from './audit.js';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-audit-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A store holding `n` audit records, appended in one batch. */
function filled(n = 100): { dir: string; store: Store } {
  const dir = tmp();
  const store = Store.open(dir);
  store.auditBatch(Array.from({ length: n }, (_, i) => ({
    at: 1_700_000_000_000 + i, actor: i % 3 ? 'otto' : 'cli:alice', kind: 'ticket.updated',
    subject: `T${(i % 5) + 1}`, data: { i, nested: { b: [1, 'two'], a: null } },
  })));
  return { dir, store };
}

/** Edits the database behind Warden's back, as a determined editor would: triggers dropped. */
function tamper(store: Store, sql: string): void {
  const db = new Database(store.path);
  db.exec('DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;');
  db.exec(sql);
  db.close();
}

function reasons(v: AuditVerification): string[] {
  return v.problems.map((p) => `${p.seq}: ${p.reason}`);
}

void describe('audit chain', () => {
  void it('serializes canonically: key order does not matter, at any depth', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}');
    assert.equal(canonicalJson({ x: 'é"\n' }), JSON.stringify({ x: 'é"\n' }));
  });

  void it('chains 100 records from the genesis hash and verifies them', () => {
    const { store } = filled(100);
    const all = store.listAudit();
    assert.equal(all.length, 100);
    assert.deepEqual(all.map((r) => r.seq), Array.from({ length: 100 }, (_, i) => i + 1));
    assert.equal(all[0]?.prevHash, GENESIS_HASH);
    for (let i = 1; i < all.length; i++) assert.equal(all[i]?.prevHash, all[i - 1]?.hash);
    const v = store.verifyAudit();
    assert.deepEqual(v, { ok: true, records: 100, headHash: all[99]?.hash, problems: [], state: { tickets: 0, actions: 0, flags: 0 } });
    assert.deepEqual(store.auditHead(), { seq: 100, hash: all[99]?.hash });
    store.close();
  });

  void it('verifies an empty log', () => {
    const s = Store.open(tmp());
    assert.deepEqual(s.verifyAudit(), { ok: true, records: 0, headHash: null, problems: [], state: { tickets: 0, actions: 0, flags: 0 } });
    s.close();
  });

  void it('returns what it stored: data is normalized to JSON before hashing', () => {
    const s = Store.open(tmp());
    const rec = s.audit({ at: 5, actor: 'otto', kind: 'x', data: { when: new Date(0), gone: undefined, n: NaN } });
    assert.deepEqual(rec.data, { when: '1970-01-01T00:00:00.000Z', n: null });
    assert.deepEqual(s.listAudit()[0], rec);
    assert.equal(rec.subject, null);
    assert.equal(s.verifyAudit().ok, true);
    s.close();
  });

  void it('refuses malformed entries', () => {
    const s = Store.open(tmp());
    const invalid = (err: unknown): boolean => isStoreError(err, 'INVALID_INPUT');
    assert.throws(() => s.audit({ at: 1, actor: '', kind: 'x' }), invalid);
    assert.throws(() => s.audit({ at: NaN, actor: 'otto', kind: 'x' }), invalid);
    assert.throws(() => s.audit({ at: 1, actor: 'otto', kind: 'x', data: [1] as unknown as Record<string, unknown> }), invalid);
    assert.equal(s.listAudit().length, 0);
    s.close();
  });

  void it('lists the last `limit` records oldest first, after a seq, by subject', () => {
    const { store } = filled(20);
    assert.deepEqual(store.listAudit({ limit: 3 }).map((r) => r.seq), [18, 19, 20]);
    assert.deepEqual(store.listAudit({ afterSeq: 17 }).map((r) => r.seq), [18, 19, 20]);
    assert.deepEqual(store.listAudit({ subject: 'T2' }).map((r) => r.seq), [2, 7, 12, 17]);
    assert.deepEqual(store.listAudit({ subject: 'T2', limit: 2 }).map((r) => r.seq), [12, 17]);
    assert.deepEqual(store.listAudit({ limit: 0 }), []);
    store.close();
  });

  void it('is append-only at the SQL level: UPDATE and DELETE through any connection abort', () => {
    const { store } = filled(5);
    const db = new Database(store.path);
    assert.throws(() => db.prepare(`UPDATE audit SET actor = 'mallory' WHERE seq = 2`).run(), /append-only/);
    assert.throws(() => db.prepare('DELETE FROM audit WHERE seq = 5').run(), /append-only/);
    assert.throws(() => db.prepare('DELETE FROM audit_head').run(), /cannot be deleted/);
    assert.throws(() => db.prepare('UPDATE audit_head SET seq = 4').run(), /only moves forward/);
    db.close();
    assert.equal(store.verifyAudit().ok, true);
    store.close();
  });

  void it('rolls back audit records with the transaction they were written in', () => {
    const { store } = filled(3);
    const head = store.auditHead();
    assert.throws(() => store.transaction(() => {
      store.audit({ at: 1, actor: 'otto', kind: 'a' });
      store.audit({ at: 2, actor: 'otto', kind: 'b' });
      throw new Error('decision failed');
    }));
    assert.deepEqual(store.auditHead(), head);
    assert.equal(store.listAudit().length, 3);
    assert.equal(store.audit({ at: 3, actor: 'otto', kind: 'c' }).seq, 4);
    assert.equal(store.verifyAudit().ok, true);
    store.close();
  });
});

void describe('audit verify catches a determined editor', () => {
  void it('altered data', () => {
    const { store } = filled();
    tamper(store, `UPDATE audit SET data = '{"i":6,"nested":{"a":null,"b":[1,"three"]}}' WHERE seq = 7`);
    const v = store.verifyAudit();
    assert.equal(v.ok, false);
    assert.deepEqual(reasons(v), ['7: record 7: hash mismatch — content was altered']);
    store.close();
  });

  void it('altered actor, and altered at', () => {
    const { store } = filled();
    tamper(store, `UPDATE audit SET actor = 'mallory' WHERE seq = 42; UPDATE audit SET at = at + 1 WHERE seq = 60`);
    const v = store.verifyAudit();
    assert.equal(v.ok, false);
    assert.deepEqual(reasons(v), [
      '42: record 42: hash mismatch — content was altered',
      '60: record 60: hash mismatch — content was altered',
    ]);
    store.close();
  });

  void it('a record rewritten with a recomputed hash still breaks the link to the next one', () => {
    const { store } = filled(10);
    const db = new Database(store.path);
    db.exec('DROP TRIGGER audit_no_update');
    db.prepare(`UPDATE audit SET hash = ? WHERE seq = 4`).run('f'.repeat(64));
    db.close();
    const v = store.verifyAudit();
    assert.equal(v.ok, false);
    assert.ok(reasons(v).includes('5: record 5: prevHash does not match the hash of record 4 — the chain is broken here'), reasons(v).join('\n'));
    store.close();
  });

  void it('a deleted middle record: a gap and a prevHash mismatch', () => {
    const { store } = filled();
    tamper(store, 'DELETE FROM audit WHERE seq = 5');
    const v = store.verifyAudit();
    assert.equal(v.ok, false);
    assert.equal(v.records, 99);
    assert.deepEqual(reasons(v), [
      '5: record 5 missing (seq jumps 4 → 6)',
      '6: record 6: prevHash does not match the hash of record 4 — the chain is broken here',
    ]);
    store.close();
  });

  void it('a deleted first record', () => {
    const { store } = filled(10);
    tamper(store, 'DELETE FROM audit WHERE seq = 1');
    assert.deepEqual(reasons(store.verifyAudit()), [
      '1: record 1 missing (chain starts at 2)',
      "2: record 2: prevHash is not the genesis hash — the chain's start was cut off or rewritten",
    ]);
    store.close();
  });

  void it('deleted last records, and they stay reported after later appends', () => {
    const { store } = filled();
    tamper(store, 'DELETE FROM audit WHERE seq = 100');
    let v = store.verifyAudit();
    assert.equal(v.ok, false);
    assert.deepEqual(reasons(v), ['100: chain ends at 99 but head says 100: records were removed from the end']);
    // Appending continues from the head, so the truncation does not heal.
    store.audit({ at: 1, actor: 'otto', kind: 'later' });
    v = store.verifyAudit();
    assert.equal(v.ok, false);
    assert.deepEqual(reasons(v), [
      '100: record 100 missing (seq jumps 99 → 101)',
      '101: record 101: prevHash does not match the hash of record 99 — the chain is broken here',
    ]);
    store.close();
  });

  void it('all records deleted', () => {
    const { store } = filled(10);
    tamper(store, 'DELETE FROM audit');
    assert.deepEqual(reasons(store.verifyAudit()), ['1: chain is empty but head says 10: records were removed']);
    store.close();
  });

  void it('two records swapped', () => {
    const { store } = filled();
    const cols = 'at, actor, kind, subject, data, prev_hash, hash';
    tamper(store, `
      CREATE TEMP TABLE keep AS SELECT seq, ${cols} FROM audit WHERE seq IN (30, 31);
      UPDATE audit SET (${cols}) = (SELECT ${cols} FROM keep WHERE keep.seq = 31) WHERE seq = 30;
      UPDATE audit SET (${cols}) = (SELECT ${cols} FROM keep WHERE keep.seq = 30) WHERE seq = 31;
    `);
    const v = store.verifyAudit();
    assert.equal(v.ok, false);
    const bad = new Set(v.problems.map((p) => p.seq));
    assert.deepEqual([...bad].sort((a, b) => a - b), [30, 31, 32]);
    assert.ok(reasons(v).includes('30: record 30: hash mismatch — content was altered'));
    assert.ok(reasons(v).includes('31: record 31: hash mismatch — content was altered'));
    store.close();
  });

  void it('a record appended outside Warden', () => {
    const { store } = filled(10);
    const db = new Database(store.path);
    db.prepare(`INSERT INTO audit (seq, at, actor, kind, subject, data, prev_hash, hash) VALUES (11, 0, 'x', 'y', NULL, '{}', ?, ?)`)
      .run(store.auditHead()?.hash, 'e'.repeat(64));
    db.close();
    const v = store.verifyAudit();
    assert.equal(v.ok, false);
    assert.ok(reasons(v).includes('11: chain ends at 11 but head says 10: records were added outside Warden'), reasons(v).join('\n'));
    store.close();
  });
});

void describe('audit with concurrent writers', () => {
  void it('two Store instances appending interleaved keep one valid chain', () => {
    const dir = tmp();
    const a = Store.open(dir);
    const b = Store.open(dir);
    for (let i = 0; i < 50; i++) {
      a.audit({ at: i, actor: 'daemon', kind: 'pass', data: { i } });
      b.audit({ at: i, actor: 'cli', kind: 'freeze', data: { i } });
      if (i % 10 === 0) b.transaction(() => { b.audit({ at: i, actor: 'cli', kind: 'x' }); b.setFlag('f', String(i)); });
    }
    const v = a.verifyAudit();
    assert.deepEqual({ ok: v.ok, records: v.records, problems: v.problems }, { ok: true, records: 105, problems: [] });
    assert.deepEqual(b.verifyAudit(), v);
    a.close();
    b.close();
  });

  void it('three processes appending at once keep one valid chain with every record', async () => {
    const dir = tmp();
    Store.open(dir).close();
    const storeUrl = new URL('./store.js', import.meta.url).href;
    const script = `
      import { Store } from ${JSON.stringify(storeUrl)};
      const s = Store.open(process.argv[1]);
      for (let i = 0; i < 60; i++) {
        if (i % 3 === 0) s.auditBatch([1, 2, 3].map((k) => ({ at: Date.now(), actor: process.argv[2], kind: 'batch', data: { i, k } })));
        else s.audit({ at: Date.now(), actor: process.argv[2], kind: 'one', data: { i } });
      }
      s.close();
    `;
    const run = (actor: string): Promise<number | null> => new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir, actor], { stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('error', reject);
      child.on('exit', (code) => resolve(code));
    });
    const codes = await Promise.all(['p1', 'p2', 'p3'].map(run));
    assert.deepEqual(codes, [0, 0, 0]);
    const s = Store.open(dir, { readonly: true });
    const v = s.verifyAudit();
    assert.deepEqual({ ok: v.ok, records: v.records, problems: v.problems }, { ok: true, records: 3 * (40 + 20 * 3), problems: [] });
    const actors = new Set(s.listAudit().map((r) => r.actor));
    assert.deepEqual([...actors].sort(), ['p1', 'p2', 'p3']);
    s.close();
  });
});
