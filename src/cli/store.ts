// warden store backup FILE | store recover: a consistent copy of a live store, and salvage of a
// damaged one (the daemon refuses to start on it and says to come here or to a backup).
import type { Command } from 'commander';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import { acquireDataDirLock } from '../daemon/lock.js';
import { isWardenError } from '../lib/errors.js';
import { recoverStore, type RecoveryReport } from '../store/recover.js';
import { CliError, openStore, printJson, printTable, readConfig, type GlobalOpts } from './common.js';

export function registerStore(program: Command, globals: () => GlobalOpts): void {
  const store = program.command('store').description('the store (dataDir/warden.db): online backup, salvage of a damaged one');

  store.command('backup <file>')
    .description('copy the store to FILE with SQLite\'s backup API: consistent, and safe while the daemon runs.\n' +
      'To restore: stop Warden, move warden.db, warden.db-wal and warden.db-shm aside, copy FILE to dataDir/warden.db')
    .option('--force', 'overwrite FILE if it exists')
    .option('--json', 'print JSON: { file, source, pages, auditRecords, auditHead }')
    .action(async (file: string, o: { force?: boolean; json?: boolean }) => {
      const dest = resolve(file);
      if (existsSync(dest) && !o.force) throw new CliError(`${dest} already exists; use --force to overwrite it`);
      const cfg = readConfig(globals());
      // Into a temporary name first: FILE is either the old file or a complete, checked copy.
      const tmp = `${dest}.tmp-${process.pid}`;
      const s = openStore(cfg, 'read');
      let pages: number;
      try {
        pages = (await s.backup(tmp)).pages;
      } catch (e) {
        rmSync(tmp, { force: true });
        throw e;
      } finally {
        s.close();
      }
      const copy = new Database(tmp, { readonly: true });
      let summary: { auditRecords: number; auditHead: string | null };
      try {
        const bad = (copy.pragma('quick_check') as { quick_check: string }[]).filter((r) => r.quick_check !== 'ok');
        if (bad.length > 0) throw new CliError(`the copy in ${tmp} fails quick_check (${bad[0]?.quick_check ?? ''}); the store itself may be damaged: see "warden doctor"`);
        const head = copy.prepare('SELECT seq, hash FROM audit_head WHERE id = 1').get() as { seq: number; hash: string } | undefined;
        summary = { auditRecords: head?.seq ?? 0, auditHead: head && head.seq > 0 ? head.hash : null };
      } finally {
        copy.close();
      }
      renameSync(tmp, dest);
      const out = { file: dest, source: s.path, pages, ...summary };
      if (o.json) return printJson(out);
      process.stdout.write(`backed up ${out.source} to ${dest}: ${pages} pages, quick_check ok, audit head ${summary.auditRecords}${summary.auditHead ? ` (${summary.auditHead})` : ''}\n`);
    });

  store.command('recover')
    .description('salvage a damaged store: its files are renamed aside (kept, with a timestamp), a new store is made by\n' +
      'the normal migrations, and every row SQLite can still read is copied into it, table by table; prints what was\n' +
      'copied and what was lost per table. The daemon must be stopped. Then "warden run" starts on the new store,\n' +
      'and "warden audit verify" shows which recorded history is gone')
    .option('--json', 'print JSON: { dataDir, movedAside, source, tables: [{ table, copied, lost, lostKeys, error? }], audit }')
    .action((o: { json?: boolean }) => {
      const cfg = readConfig(globals());
      let lock: { release(): void };
      try {
        lock = acquireDataDirLock(cfg.agent.dataDir);
      } catch (e) {
        if (isWardenError(e, 'LOCK_HELD')) throw new CliError(`${e.message}: stop the daemon before recovering its store`);
        throw e;
      }
      let report: RecoveryReport;
      try {
        report = recoverStore(cfg.agent.dataDir, Date.now());
      } finally {
        lock.release();
      }
      if (o.json) return printJson(report);
      printRecovery(report);
    });
}

function printRecovery(r: RecoveryReport): void {
  const w = (l: string): boolean => process.stdout.write(`${l}\n`);
  w(`moved aside (kept): ${r.movedAside.length === 0 ? 'nothing' : r.movedAside.join(', ')}`);
  w(`read from: ${r.source}`);
  w('');
  printTable(r.tables.map((t) => ({
    table: t.table, copied: String(t.copied), lost: String(t.lost),
    detail: t.error ?? (t.lostKeys.length > 0 ? `lost: ${t.lostKeys.slice(0, 10).join(', ')}${t.lostKeys.length > 10 ? ', ...' : ''}` : ''),
  })), 'no tables');
  w('');
  w(`audit chain: ${r.audit.records} records, ${r.audit.ok ? 'intact' : `${r.audit.problems} problem(s): "warden audit verify" says which records and state are gone`}`);
  w(`next: "warden run" starts on the recovered store in ${r.dataDir}; the old files stay until you delete them`);
}
