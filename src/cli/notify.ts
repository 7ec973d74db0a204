// warden notify list | test CHANNEL: the notification outbox as people read it, and a test message
// through one channel to prove its address, credentials and format before an incident does.
import type { Command } from 'commander';
import type { NotifyChannel } from '../domain/types.js';
import { deliverOnce } from '../notify/channels.js';
import type { NotifyEvent } from '../notify/event.js';
import { OUTBOX_STATES, type OutboxState } from '../store/outbox.js';
import { outboxJson } from '../views/outbox.js';
import { ago, CliError, config, intOption, LIMIT_MAX, printJson, printTable, readConfig, storeCreated, withStore, type GlobalOpts } from './common.js';

export function registerNotify(program: Command, globals: () => GlobalOpts): void {
  const notify = program.command('notify')
    .description('notification channels: the outbox and its delivery state, and a test message')
    .addHelpText('after', `
Every notification is recorded in the store's outbox, one row per channel, then delivered by the
daemon with retries until the channel's ttl (docs/notifications.md).

Examples:
  warden notify list                    the newest 50, with their delivery state
  warden notify list --state pending    what is still waiting (and why: attempts, last error)
  warden notify test pager              send a test message through the channel "pager"`);

  notify.command('list')
    .description('the outbox, newest first: channel, kind, key, state (pending, delivered, failed, dropped, suppressed, digested)')
    .option('--json', 'as JSON')
    .option('--channel <name>', 'only this channel')
    .option('--state <state>', `only rows in this state (${OUTBOX_STATES.join(', ')})`)
    .option('-n, --limit <n>', 'how many', intOption(1, LIMIT_MAX), 50)
    .action((o: { json?: boolean; channel?: string; state?: string; limit: number }) => {
      if (o.state !== undefined && !(OUTBOX_STATES as readonly string[]).includes(o.state)) {
        throw new CliError(`--state: expected one of ${OUTBOX_STATES.join(', ')}; got "${o.state}"`, 2);
      }
      const cfg = readConfig(globals());
      const rows = storeCreated(cfg.agent.dataDir)
        ? withStore(cfg, 'read', (s) => s.outbox.list<NotifyEvent>({ ...(o.channel ? { channel: o.channel } : {}), ...(o.state ? { states: [o.state as OutboxState] } : {}), limit: o.limit }))
        : [];
      if (o.json) { printJson(rows.map(outboxJson)); return; }
      const now = Date.now();
      printTable(rows.map((r) => ({
        id: String(r.id), channel: r.channel, kind: r.kind, key: r.key ?? '-', state: r.hold && r.state === 'pending' ? `pending (${r.hold})` : r.state,
        attempts: String(r.attempts), created: ago(r.createdAt, now), detail: r.lastError ?? r.note ?? '',
      })), 'no notifications recorded (channels: "notify:" in the config; try "warden notify test CHANNEL")');
    });

  notify.command('test <channel>')
    .description('send a test message through one channel now and say what the provider answered (exit 1 if it failed)')
    .option('--json', 'the outcome as JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const cfg = config(globals());
      const ch = cfg.notify.find((c) => c.name === name);
      if (!ch) {
        const names = cfg.notify.map((c) => c.name);
        throw new CliError(`no channel "${name}" in ${cfg.file}; ${names.length > 0 ? `channels are: ${names.join(', ')}` : 'it has no "notify:" entries'}`, 2);
      }
      const event = testEvent(cfg.agent.name, ch);
      const res = await deliverOnce(ch, event, AbortSignal.timeout(ch.timeoutMs));
      if (storeCreated(cfg.agent.dataDir)) record(cfg, ch, event, res);
      if (o.json) printJson({ channel: ch.name, type: ch.type, ...res });
      else process.stdout.write(res.ok ? `sent a test message through ${ch.name} (${ch.type}): ${res.status ?? 'ok'}\n` : '');
      if (!res.ok) throw new CliError(`${ch.name} (${ch.type}): ${res.error ?? 'not delivered'}${res.retryable ? ' (may pass later: is the provider reachable?)' : ' (the provider refused it: check the channel\'s address and credentials)'}`);
    });
}

function testEvent(agent: string, ch: NotifyChannel): NotifyEvent {
  return {
    kind: 'notify.test', agent, at: new Date().toISOString(), subject: null, key: `agent:${agent}:test`, severity: 'info', service: null,
    summary: `test message from ${agent} through ${ch.name} (${ch.type}): this channel works`, data: {},
  };
}

/** The test shows in "notify list" like any other notification. */
function record(cfg: ReturnType<typeof config>, ch: NotifyChannel, event: NotifyEvent, res: { ok: boolean; status: number | null; error: string | null }): void {
  const now = Date.now();
  withStore(cfg, 'write', (s) => {
    const id = s.outbox.insert({ channel: ch.name, kind: event.kind, key: event.key, event, createdAt: now, created: null, dueAt: now, due: null });
    s.outbox.update(id, { state: res.ok ? 'delivered' : 'failed', attempts: 1, lastStatus: res.status, lastError: res.error, settledAt: now, note: 'warden notify test' });
  });
}
