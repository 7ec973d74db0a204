// warden actions list|show|approve|reject|cancel, and the kill switch: freeze|unfreeze
import type { Command } from 'commander';
import type { ActionState } from '../domain/types.js';
import {
  actionJson, ago, CliError, intOption, LIMIT_MAX, printJson, printTable, readConfig, withStore, type GlobalOpts,
} from './common.js';
import { state } from './color.js';
import { submit } from './submit.js';
import { durationOption } from './control.js';

const STATES: ActionState[] = ['proposed', 'validated', 'awaiting_approval', 'executing', 'completed', 'failed', 'cancelled'];

export function registerActions(program: Command, globals: () => GlobalOpts): void {
  const actions = program.command('actions').description('list, inspect, approve, reject and cancel repair actions');

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
        attempts: String(a.attempts), created: ago(a.createdAt), error: a.error ?? '',
      })), 'no actions', { state });
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
  actions.command('cancel <id>').description('cancel an action that has not started')
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
