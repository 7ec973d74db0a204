// The audit log: append-only and hash-chained. Each record's hash covers its own content and the
// previous record's hash, so editing, deleting or reordering records breaks the chain; the
// audit_head row (seq + hash of the newest record) catches records cut off the end.
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { StoreError } from './errors.js';
import { GENESIS_HASH } from './migrations.js';

export { GENESIS_HASH };

export interface AuditEntry {
  at: number;
  /** Identity that decided or did the thing: an agent name, a person, `cli:<user>`. */
  actor: string;
  /** What happened, dotted: `ticket.opened`, `action.completed`, `freeze.set`. */
  kind: string;
  /** What it happened to: a ticket or action id, a service name. */
  subject?: string | null;
  data?: Record<string, unknown>;
}

export interface AuditRecord {
  seq: number;
  at: number;
  actor: string;
  kind: string;
  subject: string | null;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface AuditProblem {
  seq: number;
  reason: string;
}

export interface AuditVerification {
  ok: boolean;
  records: number;
  /** Hash of the newest record in the chain (null when empty): publish it to anchor the log. */
  headHash: string | null;
  problems: AuditProblem[];
  /** How many tickets, actions and flags the chain recorded and the rows were checked against. */
  state?: { tickets: number; actions: number; flags: number };
}

export interface AuditListFilter {
  /** The last `limit` matching records (still returned oldest first). */
  limit?: number;
  /** The first `first` matching records instead (a reader catching up in batches). */
  first?: number;
  afterSeq?: number;
  subject?: string;
  /** Records about this service: by name (subject, `data.service`, `data.target`), or about one
   *  of its tickets or actions (some records name only the ticket or action). */
  service?: string;
  /** This kind exactly, or every kind under it (`ticket` matches `ticket.opened`). */
  kind?: string;
  /** Wall-clock bounds on `at`, both inclusive. */
  since?: number;
  until?: number;
}

/** JSON with object keys sorted at every depth, so equal content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v)).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts = Object.keys(obj)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`);
  return `{${parts.join(',')}}`;
}

export function auditHash(r: Omit<AuditRecord, 'hash'>): string {
  const body = canonicalJson({
    seq: r.seq, at: r.at, actor: r.actor, kind: r.kind, subject: r.subject, data: r.data, prevHash: r.prevHash,
  });
  return createHash('sha256').update(body).digest('hex');
}

interface Row {
  seq: number;
  at: number;
  actor: string;
  kind: string;
  subject: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

const COLUMNS = 'seq, at, actor, kind, subject, data, prev_hash, hash';

function toRecord(row: Row): AuditRecord {
  return {
    seq: row.seq, at: row.at, actor: row.actor, kind: row.kind, subject: row.subject,
    data: JSON.parse(row.data) as Record<string, unknown>, prevHash: row.prev_hash, hash: row.hash,
  };
}

// Round-trip through JSON first: what is hashed must be exactly what a later reader parses back
// (undefined dropped, Dates as strings, NaN as null).
function normalizeData(data: unknown): Record<string, unknown> {
  if (data === undefined) return {};
  const json = JSON.stringify(data) as string | undefined;
  const parsed: unknown = json === undefined ? undefined : JSON.parse(json);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new StoreError('INVALID_INPUT', 'audit data must be a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function checkEntry(e: AuditEntry): void {
  if (typeof e.at !== 'number' || !Number.isFinite(e.at)) {
    throw new StoreError('INVALID_INPUT', `audit entry: at must be a finite number, got ${String(e.at)}`);
  }
  if (typeof e.actor !== 'string' || e.actor === '') throw new StoreError('INVALID_INPUT', 'audit entry: actor is required');
  if (typeof e.kind !== 'string' || e.kind === '') throw new StoreError('INVALID_INPUT', 'audit entry: kind is required');
  if (e.subject != null && typeof e.subject !== 'string') {
    throw new StoreError('INVALID_INPUT', 'audit entry: subject must be a string or null');
  }
}

function missing(from: number, to: number, prevSeq: number | null): string {
  const what = from === to ? `record ${from} missing` : `records ${from}–${to} missing`;
  return prevSeq === null
    ? `${what} (chain starts at ${to + 1})`
    : `${what} (seq jumps ${prevSeq} → ${to + 1})`;
}

/** Statements come from the Store's cache; transactions are the Store's business. */
export class AuditLog {
  constructor(private readonly prepare: (sql: string) => Database.Statement) {}

  /** Must run inside an IMMEDIATE transaction, so the head read and the append are one step. */
  append(e: AuditEntry): AuditRecord {
    checkEntry(e);
    const data = normalizeData(e.data);
    const head = this.head() ?? { seq: 0, hash: GENESIS_HASH };
    const max = (this.prepare('SELECT max(seq) AS m FROM audit').get() as { m: number | null }).m ?? 0;
    // Continue from the head, not from the last row: if rows were cut off the end, appending
    // after the survivors would make the truncation verify again.
    const rec: Omit<AuditRecord, 'hash'> = {
      seq: Math.max(head.seq, max) + 1, at: e.at, actor: e.actor, kind: e.kind,
      subject: e.subject ?? null, data, prevHash: head.hash,
    };
    const hash = auditHash(rec);
    this.prepare(`INSERT INTO audit (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(rec.seq, rec.at, rec.actor, rec.kind, rec.subject, canonicalJson(data), rec.prevHash, hash);
    this.prepare(
      `INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`,
    ).run(rec.seq, hash);
    return { ...rec, hash };
  }

  head(): { seq: number; hash: string } | null {
    const row = this.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as
      { seq: number; hash: string } | undefined;
    return row ?? null;
  }

  list(f: AuditListFilter = {}): AuditRecord[] {
    const where = ['seq > ?'];
    const args: unknown[] = [f.afterSeq ?? 0];
    if (f.subject !== undefined) {
      where.push('subject = ?');
      args.push(f.subject);
    }
    if (f.service !== undefined) {
      where.push(`(subject = ? OR json_extract(data, '$.service') = ? OR json_extract(data, '$.target') = ?
        OR subject IN (SELECT id FROM tickets WHERE json_extract(json, '$.service') = ?)
        OR subject IN (SELECT id FROM actions WHERE target = ?))`);
      args.push(f.service, f.service, f.service, f.service, f.service);
    }
    if (f.kind !== undefined) {
      // substr, not LIKE: kinds contain "_", which LIKE reads as a wildcard.
      where.push('(kind = ? OR substr(kind, 1, ?) = ?)');
      args.push(f.kind, f.kind.length + 1, `${f.kind}.`);
    }
    if (f.since !== undefined) {
      where.push('at >= ?');
      args.push(f.since);
    }
    if (f.until !== undefined) {
      where.push('at <= ?');
      args.push(f.until);
    }
    const cond = where.join(' AND ');
    if (f.first !== undefined) {
      return (this.prepare(`SELECT ${COLUMNS} FROM audit WHERE ${cond} ORDER BY seq LIMIT ?`).all(...args, Math.max(0, Math.floor(f.first))) as Row[]).map(toRecord);
    }
    if (f.limit === undefined) {
      return (this.prepare(`SELECT ${COLUMNS} FROM audit WHERE ${cond} ORDER BY seq`).all(...args) as Row[]).map(toRecord);
    }
    const rows = this.prepare(
      `SELECT * FROM (SELECT ${COLUMNS} FROM audit WHERE ${cond} ORDER BY seq DESC LIMIT ?) ORDER BY seq`,
    ).all(...args, Math.max(0, Math.floor(f.limit))) as Row[];
    return rows.map(toRecord);
  }

  /**
   * Should run inside a read transaction so the chain and the head are one snapshot. With `from`
   * (a record known to be in the chain: an earlier head), only the records after it are checked,
   * and they must continue from it: what start-up uses to tell whether a WAL belongs to its database.
   */
  verify(from: { seq: number; hash: string } | null = null): AuditVerification {
    const problems: AuditProblem[] = [];
    let prev: Pick<Row, 'seq' | 'hash'> | null = null;
    let records = 0;
    if (from !== null && from.seq > 0) {
      const row = this.prepare('SELECT seq, hash FROM audit WHERE seq = ?').get(from.seq) as Pick<Row, 'seq' | 'hash'> | undefined;
      if (row?.hash !== from.hash) {
        problems.push({ seq: from.seq, reason: row === undefined ? `record ${from.seq} is missing` : `record ${from.seq} has another hash than the one expected` });
        return { ok: false, records, headHash: null, problems };
      }
      prev = row;
    }
    for (const row of this.prepare(`SELECT ${COLUMNS} FROM audit WHERE seq > ? ORDER BY seq`).iterate(from?.seq ?? 0) as IterableIterator<Row>) {
      records++;
      const expectedSeq = prev === null ? 1 : prev.seq + 1;
      if (row.seq > expectedSeq) {
        problems.push({ seq: expectedSeq, reason: missing(expectedSeq, row.seq - 1, prev?.seq ?? null) });
      } else if (row.seq < expectedSeq) {
        problems.push({ seq: row.seq, reason: `record ${row.seq}: seq out of order (expected ${expectedSeq})` });
      }
      if (prev === null && row.prev_hash !== GENESIS_HASH) {
        problems.push({ seq: row.seq, reason: `record ${row.seq}: prevHash is not the genesis hash — the chain's start was cut off or rewritten` });
      } else if (prev !== null && row.prev_hash !== prev.hash) {
        problems.push({ seq: row.seq, reason: `record ${row.seq}: prevHash does not match the hash of record ${prev.seq} — the chain is broken here` });
      }
      problems.push(...this.checkHash(row));
      prev = row;
    }
    problems.push(...this.checkHead(prev, records));
    return { ok: problems.length === 0, records, headHash: prev?.hash ?? null, problems };
  }

  private checkHash(row: Row): AuditProblem[] {
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(row.data) as Record<string, unknown>;
    } catch {
      return [{ seq: row.seq, reason: `record ${row.seq}: data is not valid JSON — content was altered` }];
    }
    const computed = auditHash({
      seq: row.seq, at: row.at, actor: row.actor, kind: row.kind, subject: row.subject, data, prevHash: row.prev_hash,
    });
    return computed === row.hash ? [] : [{ seq: row.seq, reason: `record ${row.seq}: hash mismatch — content was altered` }];
  }

  private checkHead(last: Pick<Row, 'seq' | 'hash'> | null, records: number): AuditProblem[] {
    const head = this.head();
    const lastSeq = last?.seq ?? 0;
    if (head === null) {
      return records === 0 ? [] : [{ seq: lastSeq, reason: 'the audit head row is missing: it was deleted' }];
    }
    if (head.seq > lastSeq) {
      const reason = last === null
        ? `chain is empty but head says ${head.seq}: records were removed`
        : `chain ends at ${lastSeq} but head says ${head.seq}: records were removed from the end`;
      return [{ seq: lastSeq + 1, reason }];
    }
    if (head.seq < lastSeq) {
      return [{ seq: head.seq + 1, reason: `chain ends at ${lastSeq} but head says ${head.seq}: records were added outside Warden` }];
    }
    if (last !== null && head.hash !== last.hash) {
      return [{ seq: lastSeq, reason: `record ${lastSeq}: hash differs from the head's — the last record was replaced` }];
    }
    return [];
  }
}
