// warden tickets list|show|resolve|hold
import type { Command } from 'commander';
import { pausesOf } from '../runtime/diagnostics.js';
import type { TicketStatus } from '../domain/types.js';
import {
  actionJson, ago, CliError, intOption, LIMIT_MAX, printJson, printTable, readConfig, ticketJson, withStore, type GlobalOpts,
} from './common.js';
import { state } from './color.js';
import { occurrenceLines } from './occurrences.js';
import { submit } from './submit.js';
import { llmCallJson, llmCallLines, opinionLines } from './llmcalls.js';

const STATUSES: TicketStatus[] = ['open', 'diagnosing', 'awaiting_approval', 'remediating', 'verifying', 'resolved', 'escalated', 'held'];

export function registerTickets(program: Command, globals: () => GlobalOpts): void {
  const tickets = program.command('tickets').description('list, inspect, resolve and hold tickets (one per problem)');

  tickets.command('list')
    .description('list tickets, open ones by default')
    .option('--all', 'include resolved tickets')
    .option('--status <status>', `only this status (${STATUSES.join(', ')})`)
    .option('--limit <n>', 'at most n tickets', intOption(1, LIMIT_MAX), 50)
    .option('--json', 'print JSON')
    .action((o: { all?: boolean; status?: string; limit: number; json?: boolean }) => {
      if (o.status && !STATUSES.includes(o.status as TicketStatus)) throw new CliError(`unknown status "${o.status}"; expected one of ${STATUSES.join(', ')}`, 2);
      const cfg = readConfig(globals());
      const { list, paused } = withStore(cfg, 'read', (s) => ({
        list: s.listTickets({ ...(o.status ? { statuses: [o.status as TicketStatus] } : {}), openOnly: !o.all && !o.status, limit: o.limit }),
        paused: pausesOf(s),
      }));
      // A paused service's tickets are left as they are: say so beside them.
      if (o.json) return printJson(list.map((t) => ({ ...ticketJson(t), paused: paused.get(t.service) ?? null })));
      printTable(list.map((t) => ({
        id: t.id, status: t.status, service: t.service + (paused.has(t.service) ? ' (paused)' : ''), cause: t.cause ?? '-', occurrences: String(t.occurrences) + (t.flapping ? ' (flapping)' : ''),
        opened: ago(t.openedAt), reason: t.reason ?? '',
      })), o.all ? 'no tickets' : 'no open tickets (use --all to include resolved ones)', { status: state });
    });

  tickets.command('show <id>')
    .description('show one ticket: findings, diagnosis with evidence and rejected alternatives, actions')
    .option('--json', 'print JSON')
    .option('--llm', "also show each LLM diagnoser's calls: the prompt as sent (redacted), the response, tokens and outcome")
    .action((id: string, o: { json?: boolean; llm?: boolean }) => {
      const cfg = readConfig(globals());
      withStore(cfg, 'read', (s) => {
        const t = s.getTicket(id);
        if (!t) throw new CliError(`no ticket ${id}; see "warden tickets list --all"`);
        const actions = t.actionIds.map((a) => s.getAction(a)).filter((a) => a !== null);
        const calls = o.llm ? s.llm.forTicket(t.id) : [];
        if (o.json) return printJson({ ...ticketJson(t), actions: actions.map(actionJson), ...(o.llm ? { llmCalls: calls.map(llmCallJson) } : {}) });
        const out: string[] = [];
        out.push(`ticket ${t.id}  ${state(t.status)}${t.reason ? ` — ${t.reason}` : ''}`);
        const p = pausesOf(s).get(t.service);
        out.push(`  service      ${t.host}/${t.service}${p ? ` (paused by ${p.by}: Warden does not act on this ticket)` : ''}   fingerprint ${t.fingerprint}`);
        out.push(`  root cause   ${t.rootCause ? `${t.rootCause.service}: ${t.rootCause.cause} (confidence ${t.confidence})` : 'not diagnosed'}`);
        out.push(`  occurrences  ${t.occurrences}${t.flapping ? ' (flapping)' : ''}   opened ${new Date(t.openedAt).toISOString()}${t.resolvedAt ? `   resolved ${new Date(t.resolvedAt).toISOString()}` : ''}`);
        out.push(...occurrenceLines(t, new Map(actions.map((a) => [a.id, a]))));
        out.push(...opinionLines(t.diagnosis));
        if (o.llm) out.push(...llmCallLines(calls));
        process.stdout.write(`${out.join('\n')}\n`);
      });
    });

  tickets.command('resolve <id>')
    .description('mark a ticket resolved by hand (restarts the rate-limit count for its service)')
    .option('--reason <text>', 'why', 'resolved by hand')
    .option('--as <identity>', 'who is acting (default: your user name)')
    .action(async (id: string, o: { reason: string; as?: string }) => {
      process.stdout.write(`${await submit(readConfig(globals()), { kind: 'resolve', ticketId: id, reason: o.reason }, o.as)}\n`);
    });

  tickets.command('hold <id>')
    .description('stop all automation on a ticket until it is resolved by hand')
    .option('--reason <text>', 'why', 'held by hand')
    .option('--as <identity>', 'who is acting (default: your user name)')
    .action(async (id: string, o: { reason: string; as?: string }) => {
      process.stdout.write(`${await submit(readConfig(globals()), { kind: 'hold', ticketId: id, reason: o.reason }, o.as)}\n`);
    });
}
