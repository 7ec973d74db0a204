// warden actions list|show|approve|reject|cancel, and the kill switch: freeze|unfreeze
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { ActionState, ActionType } from '../domain/types.js';
import { parseDuration } from '../lib/duration.js';
import {
  actionJson, ago, CliError, intOption, LIMIT_MAX, printJson, printTable, readConfig, withStore, type GlobalOpts,
} from './common.js';
import { state } from './color.js';
import { submit } from './submit.js';
import { durationOption } from './control.js';

const STATES: ActionState[] = ['scheduled', 'proposed', 'validated', 'awaiting_approval', 'executing', 'completed', 'failed', 'cancelled'];

export function registerActions(program: Command, globals: () => GlobalOpts): void {
  const actions = program.command('actions').description('list, inspect, submit, approve, reject and cancel repair actions');

  actions.command('list')
    .description('list actions, newest first')
    .option('--state <state>', `only this state (${STATES.join(', ')})`)
    .option('--ticket <id>', 'only actions of this ticket')
    .option('--limit <n>', 'at most n actions', intOption(1, LIMIT_MAX), 50)
    .option('--json', 'print JSON')
    .action((o: { state?: string; ticket?: string; limit: number; json?: boolean }) => {
      if (o.state && !STATES.includes(o.state as ActionState)) throw new CliError(`unknown state "${o.state}"; expected one of ${STATES.join(', ')}`, 2);
      const cfg = readConfig(globals());
      const list = withStore(cfg, 'read', (s) => s.listActions({
        ...(o.state ? { states: [o.state as ActionState] } : {}), ...(o.ticket ? { ticketId: o.ticket } : {}), limit: o.limit,
      }));
      if (o.json) return printJson(list.map(actionJson));
      printTable(list.map((a) => ({
        id: a.id, ticket: a.ticketId ?? '(deploy)', type: a.type, target: a.target, state: a.state,
        attempts: String(a.attempts), created: ago(a.createdAt),
        // A scheduled action's time, and why it waits if it is due.
        at: a.state === 'scheduled' && a.notBefore !== null ? new Date(a.notBefore).toISOString() : '', error: a.error ?? '',
      })), 'no actions', { state });
    });

  actions.command('submit <type> <service>')
    .description('ask for one catalog action on a service, now or at a later time (--at); it runs under policy')
    .option('--param <key=value>', 'a parameter of the action, e.g. runbook=thaw (repeatable)', collectParam)
    .option('--at <time>', 'run it then, not now: an ISO time (2026-03-01T02:00:00Z) or a delay (+10m, +2h); the policy as it is then decides')
    .option('--reason <text>', 'why (audited)')
    .option('--as <identity>', 'who is asking (admins only; default your user name)')
    .addHelpText('after', `
A scheduled action is kept in the store (it survives restarts of Warden). When its time comes it is
gated by the policy as it is then, as you: a rule that denies it then cancels it, a freeze or a
maintenance window makes it wait, and a rule that requires approval makes it wait for one. It acts
on the service as it is then; a service removed from the inventory by then is not acted on.

Examples:
  warden actions submit restart web --at +10m
  warden actions submit run-runbook worker --param runbook=rotate-logs --at 2026-03-01T02:00:00Z
  warden actions list --state scheduled
  warden actions cancel A12`)
    .action(async (type: string, service: string, o: { param?: Record<string, string>; at?: string; reason?: string; as?: string }) => {
      const at = o.at === undefined ? null : parseAt(o.at);
      const msg = await submit(readConfig(globals()), { kind: 'submit', type: type as ActionType, service, params: o.param ?? {}, at, reason: o.reason ?? null }, o.as);
      process.stdout.write(`${msg}\n`);
    });

  actions.command('show <id>')
    .description('show one action')
    .option('--json', 'print JSON')
    .action((id: string, o: { json?: boolean }) => {
      const cfg = readConfig(globals());
      const a = withStore(cfg, 'read', (s) => s.getAction(id));
      if (!a) throw new CliError(`no action ${id}; see "warden actions list"`);
      if (o.json) return printJson(actionJson(a));
      const j = actionJson(a);
      for (const [k, v] of Object.entries(j)) process.stdout.write(`${k.padEnd(15)} ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}\n`);
    });

  const decideOn = async (verb: 'approve' | 'reject' | 'cancel', id: string, o: { reason?: string; as?: string }): Promise<void> => {
    const msg = await submit(readConfig(globals()), { kind: verb, actionId: id, reason: o.reason ?? null }, o.as);
    process.stdout.write(`${msg}\n`);
  };

  actions.command('approve <id>').description('approve an action awaiting approval, or a proposal (recommend mode): it runs once, under policy')
    .option('--as <identity>', 'who is approving (default: your user name)')
    .action((id: string, o: { as?: string }) => decideOn('approve', id, o));
  actions.command('reject <id>').description('reject an action awaiting approval (its ticket is held) or a proposal')
    .option('--reason <text>', 'why').option('--as <identity>', 'who is rejecting')
    .action((id: string, o: { reason?: string; as?: string }) => decideOn('reject', id, o));
  actions.command('cancel <id>').description('cancel an action that has not started (a scheduled one never runs)')
    .option('--reason <text>', 'why').option('--as <identity>', 'who is cancelling')
    .action((id: string, o: { reason?: string; as?: string }) => decideOn('cancel', id, o));

  program.command('freeze')
    .description('kill switch: no action starts until "warden unfreeze" or the --for runs out (effective within one pass)')
    .option('--reason <text>', 'why', 'frozen by hand')
    .option('--for <duration>', 'lift the freeze by itself after this long (30s, 10m, 1h)', durationOption)
    .option('--as <identity>', 'who is acting')
    .action(async (o: { reason: string; for?: number; as?: string }) => {
      process.stdout.write(`${await submit(readConfig(globals()), { kind: 'freeze', reason: o.reason, ...(o.for !== undefined ? { forMs: o.for } : {}) }, o.as)}\n`);
    });

  program.command('unfreeze')
    .description('lift the kill switch')
    .option('--as <identity>', 'who is acting')
    .action(async (o: { as?: string }) => {
      process.stdout.write(`${await submit(readConfig(globals()), { kind: 'unfreeze' }, o.as)}\n`);
    });
}

function collectParam(value: string, prev: Record<string, string> | undefined): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('Expected key=value, e.g. runbook=thaw.');
  return { ...prev, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** `+10m` (from when the daemon applies it, on monotonic time) or an ISO time with its zone (wall clock). */
function parseAt(value: string): { inMs: number } | { wall: number } {
  if (value.startsWith('+')) {
    try {
      const ms = parseDuration(value.slice(1));
      if (ms > 0) return { inMs: ms };
    } catch { /* reported below */ }
    throw new CliError(`--at ${value}: expected a delay such as +30s, +10m or +2h`, 2);
  }
  const wall = /^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(wall)) throw new CliError(`--at ${value}: expected an ISO time with its zone (2026-03-01T02:00:00Z) or a delay (+10m)`, 2);
  return { wall };
}
