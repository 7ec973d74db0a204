// warden explain TICKET: the ticket's story for a person on call (views/explain.ts).
import type { Command } from 'commander';
import { explainTicket, formatExplanation } from '../views/explain.js';
import { occurrencesOf } from './occurrences.js';
import { CliError, printJson, readConfig, withStore, type GlobalOpts } from './common.js';

export function registerExplain(program: Command, globals: () => GlobalOpts): void {
  program.command('explain <ticket>')
    .description('explain a ticket: what happened in order, the root cause and the evidence for it, the alternatives rejected and why, what Warden did or proposes')
    .option('--json', 'print JSON')
    .addHelpText('after', `
The story comes from the audit log (what was decided and done, in order) and the ticket's diagnosis
(evidence, rejected alternatives, recommended actions). "warden tickets show ID" lists the same
facts per occurrence; this command reads them as one account.
Examples:
  warden tickets list --all
  warden explain T3
  warden explain T3 --json | jq .rejected`)
    .action((id: string, o: { json?: boolean }) => {
      const cfg = readConfig(globals());
      const x = withStore(cfg, 'read', (s) => {
        const t = s.getTicket(id);
        if (!t) throw new CliError(`no ticket ${id}; see "warden tickets list --all"`);
        const ids = [...new Set([...occurrencesOf(t).flatMap((o) => o.actionIds), ...t.actionIds])];
        const actions = ids.map((a) => s.getAction(a)).filter((a) => a !== null);
        const audit = [t.id, ...ids].flatMap((subject) => s.listAudit({ subject }));
        return explainTicket(t, actions, audit);
      });
      if (o.json) printJson(x);
      else process.stdout.write(formatExplanation(x));
    });
}
