// warden policy report [--json] [--since D]: Warden's track record per (action type, scope) from the
// store, and the promotions and demotions it has earned. It only suggests: a person edits warden.yaml.
import type { Command } from 'commander';
import { reportOf, type PolicyReport } from '../views/policyreport.js';
import { parseTimeArg, TimeArgError } from '../views/events.js';
import { formatDuration } from '../lib/duration.js';
import { CliError, printJson, printTable, readConfig, storeCreated, withStore, type GlobalOpts } from './common.js';

const dur = (ms: number | null): string => (ms === null ? '-' : formatDuration(ms));

function printReport(r: PolicyReport): void {
  process.stdout.write(`Track record ${r.since === null ? '(everything the store keeps)' : `since ${r.since}`}\n`);
  printTable(r.records.map((x) => ({
    action: x.type, scope: x.scope, mode: x.mode, attempts: String(x.attempts), verified: String(x.successes), failed: String(x.failures),
    'recover p50': dur(x.recoverP50Ms), reverts: String(x.reverts), predicted: String(x.predictions), allowed: String(x.wouldAllow),
    'went away': String(x.wentAway), 'by hand': String(x.byHand), diagnosed: String(x.diagnosed),
  })), '  no record yet: Warden has neither acted, nor predicted in shadow, nor diagnosed a problem with a repair');
  if (r.suggestions.length > 0) process.stdout.write('\nSuggestions\n');
  for (const s of r.suggestions) {
    const step = s.to === null ? s.from : `${s.from} → ${s.to}`;
    process.stdout.write(`  ${s.kind.padEnd(7)}  ${s.type} in ${s.scope}: ${step} — ${s.why}\n`);
    if (s.change) process.stdout.write(`           change: ${s.change}\n`);
  }
  process.stdout.write(`\n${r.note}\n`);
}

export function registerPolicyReport(policy: Command, globals: () => GlobalOpts): void {
  policy.command('report')
    .description('the track record per action type and scope, and the promotions or demotions it has earned')
    .option('--since <time>', 'only what happened at or after this ISO time, or this long ago (7d, 24h, 30m)')
    .option('--json', 'print JSON')
    .addHelpText('after', `
For each action type and scope (a policy.shadow entry, or else one service) Warden counts, from
its store: its own repairs that started (attempts), those whose verification held (verified), those
that failed or did not hold (failed), the middle time from a problem's opening to its verified
recovery (recover p50), reverts, and in shadow its predictions ("would have restarted web"), how
many the policy would have allowed, how many went away by themselves, and how many a person fixed
by hand; in observe mode, the problems diagnosed with that action as their repair.

Then it suggests, by the thresholds in docs/policy.md: promote observe → recommend → execute, or a
scope out of shadow, where that is earned (enough evidence, at least 95 % good, no failure in the
last attempts); demote into shadow after failures. It never changes anything: promotion stays a
person's edit of warden.yaml (agent.mode, policy.shadow).
Examples:
  warden policy report
  warden policy report --since 24h
  warden policy report --json | jq '.suggestions[] | select(.kind != "keep")'`)
    .action((o: { since?: string; json?: boolean }) => {
      const config = readConfig(globals());
      const now = Date.now();
      let since: number | null = null;
      try {
        if (o.since !== undefined) since = parseTimeArg(o.since, now, '--since');
      } catch (e) {
        if (e instanceof TimeArgError) throw new CliError(e.message, 2);
        throw e;
      }
      // Without a store nothing has happened yet: an empty record, not an error.
      const read = storeCreated(config.agent.dataDir)
        ? withStore(config, 'read', (s) => ({ tickets: s.listTickets({}), actions: s.listActions({}) }))
        : { tickets: [], actions: [] };
      const r = reportOf(config, read.tickets, read.actions, since);
      if (o.json) printJson(r);
      else printReport(r);
    });
}
