// Versioned schema. Migrations are append-only: never edit a shipped one, add the next version.
// All pending migrations apply in one IMMEDIATE transaction, so a crash or a concurrent opener
// sees either the old schema or the new one, never half of it.
import type Database from 'better-sqlite3';
import { StoreError } from './errors.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const GENESIS_HASH = '0'.repeat(64);

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE counters (
        kind  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
      );

      CREATE TABLE tickets (
        id          TEXT PRIMARY KEY,
        fingerprint TEXT NOT NULL,
        status      TEXT NOT NULL,
        opened_at   INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        json        TEXT NOT NULL
      );
      CREATE INDEX tickets_fingerprint ON tickets (fingerprint, opened_at);
      CREATE INDEX tickets_status ON tickets (status);
      CREATE INDEX tickets_opened ON tickets (opened_at);
      CREATE INDEX tickets_updated ON tickets (updated_at);

      CREATE TABLE actions (
        id              TEXT PRIMARY KEY,
        ticket_id       TEXT REFERENCES tickets (id), -- null: a deployment, not an incident
        type            TEXT NOT NULL,
        target          TEXT NOT NULL,
        state           TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        created_at      INTEGER NOT NULL,
        started_at      INTEGER,
        json            TEXT NOT NULL
      );
      CREATE INDEX actions_ticket ON actions (ticket_id);
      CREATE INDEX actions_state ON actions (state);
      CREATE INDEX actions_created ON actions (created_at);
      CREATE INDEX actions_rate ON actions (target, type, started_at);

      CREATE TABLE processes (
        service    TEXT PRIMARY KEY,
        pid        INTEGER NOT NULL,
        proc_start INTEGER NOT NULL,
        started_at INTEGER NOT NULL,
        argv       TEXT NOT NULL
      );

      CREATE TABLE exits (
        id        INTEGER PRIMARY KEY,
        service   TEXT NOT NULL,
        at        INTEGER NOT NULL,
        code      INTEGER,
        signal    TEXT,
        uptime_ms INTEGER
      );
      CREATE INDEX exits_service ON exits (service, at, id);

      CREATE TABLE service_states (
        name   TEXT NOT NULL,
        host   TEXT NOT NULL,
        health TEXT NOT NULL,
        since  INTEGER NOT NULL,
        detail TEXT NOT NULL,
        PRIMARY KEY (name, host)
      );

      CREATE TABLE flags (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );

      CREATE TABLE audit (
        seq       INTEGER PRIMARY KEY,
        at        INTEGER NOT NULL,
        actor     TEXT NOT NULL,
        kind      TEXT NOT NULL,
        subject   TEXT,
        data      TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash      TEXT NOT NULL
      );
      CREATE INDEX audit_subject ON audit (subject, seq);

      -- The last appended record, written in the same transaction as each append: without it,
      -- deleting the newest records would leave a chain that verifies.
      CREATE TABLE audit_head (
        id   INTEGER PRIMARY KEY CHECK (id = 1),
        seq  INTEGER NOT NULL,
        hash TEXT NOT NULL
      );
      INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '${GENESIS_HASH}');

      -- Append-only at the SQL level, so a bug in Warden itself cannot edit history. A determined
      -- editor can drop these; verifyAudit is what catches that.
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused'); END;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused'); END;
      CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
        BEGIN SELECT RAISE(ABORT, 'audit head cannot be deleted'); END;
      CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head WHEN NEW.seq <= OLD.seq
        BEGIN SELECT RAISE(ABORT, 'audit head only moves forward'); END;
    `,
  },
  {
    version: 2,
    name: 'reboot log',
    sql: `
      -- One row per boot of the host Warden runs on, gated on boot_id: restarts of Warden itself
      -- within one boot add nothing.
      CREATE TABLE boots (
        seq              INTEGER PRIMARY KEY,
        boot_id          TEXT NOT NULL UNIQUE,
        previous_boot_id TEXT,
        first_seen_at    INTEGER NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'command queue',
    sql: `
      -- Commands from people (approve, reject, cancel, resolve, hold, freeze, unfreeze) while the
      -- daemon runs: it applies them in its next pass, through the same state machines, and writes
      -- the outcome back for the CLI that waits on it.
      CREATE TABLE commands (
        id          INTEGER PRIMARY KEY,
        at          INTEGER NOT NULL,
        json        TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
        result      TEXT
      );
      CREATE INDEX commands_pending ON commands (state) WHERE state = 'pending';
    `,
  },
  {
    version: 4,
    name: 'monotonic action starts',
    sql: `
      -- When an action started on CLOCK_MONOTONIC, and in which boot: rate-limit windows count on it
      -- within one boot (a wall-clock step cannot empty or fill them) and on started_at across boots.
      ALTER TABLE actions ADD COLUMN started_mono REAL;
      ALTER TABLE actions ADD COLUMN started_boot TEXT;
    `,
  },
  {
    version: 5,
    name: 'process started by action',
    sql: `
      -- The action that started each process (the id its environment marker carries): after a
      -- crash, "did this action's effect happen?" compares identities, not start times.
      ALTER TABLE processes ADD COLUMN action_id TEXT;
    `,
  },
  {
    version: 6,
    name: 'exits caused by warden',
    sql: `
      -- An exit Warden caused (its own stop or restart) is a repair, not a crash: without this flag
      -- a service Warden restarted three times looked like a crash loop once its exits were re-read.
      ALTER TABLE exits ADD COLUMN by_warden INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 7,
    name: 'monotonic exits',
    sql: `
      -- When an exit happened on CLOCK_MONOTONIC, and in which boot: crash-loop windows count on it
      -- within one boot, so a wall-clock step neither makes nor hides a crash loop.
      ALTER TABLE exits ADD COLUMN at_mono REAL;
      ALTER TABLE exits ADD COLUMN at_boot TEXT;
    `,
  },
  {
    version: 8,
    name: 'store identity',
    sql: `
      -- Which store this is. The data directory's store.id file carries the same id, so a database
      -- (or a WAL) from another store, or one that vanished, is told from "never created".
      CREATE TABLE store_identity (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        store_id   TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      INSERT INTO store_identity (id, store_id, created_at)
        VALUES (1, lower(hex(randomblob(16))), CAST(unixepoch('subsec') * 1000 AS INTEGER));
    `,
  },
  {
    version: 9,
    name: 'notification outbox',
    sql: `
      -- Every notification, per channel, written in the transaction that decided it: a crash right
      -- after a commit loses none, and a pass that rolls back announces nothing. Delivered off the
      -- loop, retried with backoff until ttl, kept a while after for "warden notify list".
      -- Times: wall for records; monotonic with its boot for waits (a clock step moves neither).
      CREATE TABLE outbox (
        id           INTEGER PRIMARY KEY,
        channel      TEXT NOT NULL,
        kind         TEXT NOT NULL,
        key          TEXT,
        event        TEXT NOT NULL,
        state        TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed', 'dropped', 'suppressed', 'digested')),
        hold         TEXT CHECK (hold IN ('quiet', 'digest', 'resolve')),
        attempts     INTEGER NOT NULL DEFAULT 0,
        created_at   INTEGER NOT NULL,
        created_mono REAL,
        created_boot TEXT,
        due_at       INTEGER NOT NULL,
        due_mono     REAL,
        due_boot     TEXT,
        last_status  INTEGER,
        last_error   TEXT,
        settled_at   INTEGER,
        note         TEXT
      );
      CREATE INDEX outbox_pending ON outbox (channel, id) WHERE state = 'pending';
      CREATE INDEX outbox_key ON outbox (channel, key, id);
      CREATE INDEX outbox_created ON outbox (created_at);
    `,
  },
  {
    version: 10,
    name: 'llm calls',
    sql: `
      -- Every call to an LLM diagnoser, with its ticket: the prompt as sent (already redacted, so
      -- the store holds nothing the provider did not see), the response, its tokens and outcome.
      -- Budgets are counted from these rows and the cache is read from them, so a restart neither
      -- refills a spent budget nor asks an unchanged problem again.
      CREATE TABLE llm_calls (
        id            INTEGER PRIMARY KEY,
        ticket_id     TEXT NOT NULL,
        diagnoser     TEXT NOT NULL,
        model         TEXT NOT NULL,
        evidence_hash TEXT NOT NULL,
        at            INTEGER NOT NULL,
        outcome       TEXT NOT NULL CHECK (outcome IN ('ok', 'invalid', 'refused', 'rate_limited', 'timeout', 'error')),
        prompt        TEXT NOT NULL,
        response      TEXT,
        error         TEXT,
        input_tokens  INTEGER NOT NULL DEFAULT 0,
        output_tokens INTEGER NOT NULL DEFAULT 0,
        diagnosis     TEXT
      );
      CREATE INDEX llm_calls_ticket ON llm_calls (ticket_id, id);
      CREATE INDEX llm_calls_cache ON llm_calls (diagnoser, evidence_hash) WHERE outcome = 'ok';
      CREATE INDEX llm_calls_at ON llm_calls (diagnoser, at);
    `,
  },
];

export const LATEST_VERSION = MIGRATIONS.length === 0 ? 0 : MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The schema version recorded in the database; 0 for a database never migrated. */
export function schemaVersion(db: Database.Database): number {
  const table = db
    .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`)
    .get();
  if (table === undefined) return 0;
  const row = db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

export function tooNewError(file: string, found: number, known: number): StoreError {
  return new StoreError(
    'STORE_TOO_NEW',
    `${file}: schema version ${found} is newer than this Warden knows (${known}); ` +
      `upgrade Warden or point it at another data directory`,
  );
}

/**
 * Applies the migrations the database has not seen yet. Returns the versions before and after.
 * `migrations` is a parameter so tests can show a failing migration leaves nothing behind.
 */
export function migrate(
  db: Database.Database,
  file: string,
  migrations: readonly Migration[] = MIGRATIONS,
): { from: number; to: number } {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration #${i} has version ${m.version}, expected ${i + 1}`);
  });
  const known = migrations.length;
  const run = db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    INTEGER PRIMARY KEY,
      name       TEXT NOT NULL,
      applied_at INTEGER NOT NULL
    )`);
    // Read inside the write lock: two processes opening a fresh store at once must not both
    // apply version 1.
    const from = schemaVersion(db);
    if (from > known) throw tooNewError(file, from, known);
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of migrations.slice(from)) {
      db.exec(m.sql);
      record.run(m.version, m.name, Date.now());
    }
    return { from, to: known };
  });
  return run.immediate();
}
