import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { applyCommand } from '../app/commands.js';
import { readMarker } from './integrity.js';
import { recoverStore } from './recover.js';
import { Store } from './store.js';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'warden-recover-'));
}

function audit(s: Store, n: number): void {
  for (let i = 0; i < n; i++) s.audit({ at: 1, actor: 'test', kind: 'agent.online', data: { i } });
}

void describe('store recover', () => {
  void it('recover moves the files aside, keeps the store id, and copies every readable row', () => {
    const dir = tmp();
    const s = Store.open(dir);
    audit(s, 5);
    assert.equal(applyCommand(s, { kind: 'freeze', by: 'me', reason: 'r' }, { wall: 1, mono: 1, boot: 'b' }).ok, true);
    s.close();
    const id = readMarker(dir)!.storeId;
    const r = recoverStore(dir, Date.UTC(2025, 0, 1));
    assert.deepEqual(r.movedAside.map((f) => path.basename(f)).sort(), ['store.id.damaged-20250101T000000Z', 'warden.db.damaged-20250101T000000Z']);
    assert.equal(r.tables.find((t) => t.table === 'audit')?.copied, 6);
    assert.equal(r.tables.reduce((n, t) => n + t.lost, 0), 0);
    assert.deepEqual(r.audit, { ok: true, records: 6, problems: 0 });
    assert.equal(readMarker(dir)!.storeId, id);
    const back = Store.open(dir, { check: true });
    assert.equal(JSON.parse(back.getFlag('frozen') ?? 'null')?.by, 'me');
    assert.equal(back.verifyAudit().ok, true);
    audit(back, 1);
    assert.equal(back.verifyAudit().ok, true, 'the chain goes on from the recovered head');
    back.close();
  });
});
