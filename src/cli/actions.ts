// warden actions list|show|approve|reject|cancel, and the kill switch: freeze|unfreeze
import type { Command } from 'commander';
import type { Action, ActionState } from '../domain/types.js';
import {
  actionJson, ago, CliError, config, personIdentity, printJson, printTable, withStore, type GlobalOpts,
} from './common.js';

const STATES: ActionState[] = ['proposed', 'validated', 'awaiting_approval', 'executing', 'completed', 'failed', 'cancelled'];

export function registerActions(program: Command, globals: () => GlobalOpts): void {
  const actions = program.command('actions').description('list, inspect, approve, reject and cancel repair actions');

  actions.command('list')
    .description('list actions, newest first')
    .option('--state <state>', `only this state (${STATES.join(', ')})`)
    .option('--ticket <id>', 'only actions of this ticket')
    .option('--limit <n>', 'at most n actions', '50')
    .option('--json', 'print JSON')
    .action((o: { state?: string; ticket?: string; limit: string; json?: boolean }) => {
      if (o.state && !STATES.includes(o.state as ActionState)) throw new CliError(`unknown state "${o.state}"; expected one of ${STATES.join(', ')}`, 2);
      const cfg = config(globals());
      const list = withStore(cfg, 'read', (s) => s.listActions({
        ...(o.state ? { states: [o.state as ActionState] } : {}), ...(o.ticket ? { ticketId: o.ticket } : {}), limit: Number(o.limit),
      }));
      if (o.json) return printJson(list.map(actionJson));
      printTable(list.map((a) => ({
        id: a.id, ticket: a.ticketId ?? '(deploy)', type: a.type, target: a.target, state: a.state,
        attempts: String(a.attempts), created: ago(a.createdAt), error: a.error ?? '',
      })), 'no actions');
    });

  actions.command('show <id>')
    .description('show one action')
    .option('--json', 'print JSON')
    .action((id: string, o: { json?: boolean }) => {
      const cfg = config(globals());
      const a = withStore(cfg, 'read', (s) => s.getAction(id));
      if (!a) throw new CliError(`no action ${id}; see "warden actions list"`);
      if (o.json) return printJson(actionJson(a));
      const j = actionJson(a);
      for (const [k, v] of Object.entries(j)) process.stdout.write(`${k.padEnd(15)} ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}\n`);
    });

  const decideOn = (verb: 'approve' | 'reject' | 'cancel', id: string, o: { reason?: string; as?: string }): void => {
    const cfg = config(globals());
    const who = personIdentity(o.as);
    const a = withStore(cfg, 'write', (s) => s.transaction(() => {
      const cur = s.getAction(id);
      if (!cur) throw new CliError(`no action ${id}; see "warden actions list"`);
      const allowed: ActionState[] = verb === 'cancel' ? ['proposed', 'validated', 'awaiting_approval'] : ['awaiting_approval'];
      if (!allowed.includes(cur.state)) {
        const hint = cur.state === 'executing' ? ': its effect is under way and cannot be interrupted safely; freeze to stop further actions' : '';
        throw new CliError(`action ${id} is ${cur.state}; ${verb} needs ${allowed.join(' or ')}${hint}`);
      }
      const now = Date.now();
      const next: Action = verb === 'approve'
        ? { ...cur, state: 'validated', approvedBy: who }
        : { ...cur, state: 'cancelled', finishedAt: now, error: `${verb === 'reject' ? 'rejected' : 'cancelled'} by ${who}${o.reason ? `: ${o.reason}` : ''}` };
      s.putAction(next);
      s.audit({ at: now, actor: who, kind: verb === 'approve' ? 'action.approved' : verb === 'reject' ? 'action.rejected' : 'action.cancelled', subject: id, data: { type: cur.type, target: cur.target, reason: o.reason ?? null } });
      return next;
    }));
    const what = verb === 'approve' ? 'approved: the daemon runs it on its next pass' : verb === 'reject' ? 'rejected' : 'cancelled';
    process.stdout.write(`action ${a.id} (${a.type} ${a.target}) ${what}\n`);
  };

  actions.command('approve <id>').description('approve an action awaiting approval')
    .option('--as <identity>', 'who is approving (default: your user name)')
    .action((id: string, o: { as?: string }) => decideOn('approve', id, o));
  actions.command('reject <id>').description('reject an action awaiting approval (its ticket is held)')
    .option('--reason <text>', 'why').option('--as <identity>', 'who is rejecting')
    .action((id: string, o: { reason?: string; as?: string }) => decideOn('reject', id, o));
  actions.command('cancel <id>').description('cancel an action that has not started')
    .option('--reason <text>', 'why').option('--as <identity>', 'who is cancelling')
    .action((id: string, o: { reason?: string; as?: string }) => decideOn('cancel', id, o));

  program.command('freeze')
    .description('kill switch: no action starts until "warden unfreeze" (effective within one pass)')
    .option('--reason <text>', 'why', 'frozen by hand')
    .option('--as <identity>', 'who is acting')
    .action((o: { reason: string; as?: string }) => {
      const cfg = config(globals());
      const who = personIdentity(o.as);
      withStore(cfg, 'write', (s) => s.transaction(() => {
        s.setFlag('frozen', JSON.stringify({ by: who, reason: o.reason, at: new Date().toISOString() }));
        s.audit({ at: Date.now(), actor: who, kind: 'agent.frozen', subject: null, data: { reason: o.reason } });
      }));
      process.stdout.write(`frozen: no action will start (${o.reason}); undo with "warden unfreeze"\n`);
    });

  program.command('unfreeze')
    .description('lift the kill switch')
    .option('--as <identity>', 'who is acting')
    .action((o: { as?: string }) => {
      const cfg = config(globals());
      const who = personIdentity(o.as);
      withStore(cfg, 'write', (s) => s.transaction(() => {
        s.setFlag('frozen', null);
        s.audit({ at: Date.now(), actor: who, kind: 'agent.unfrozen', subject: null, data: {} });
      }));
      process.stdout.write('unfrozen: actions may run again\n');
    });
}
