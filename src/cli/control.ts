// warden start|stop|restart SERVICE, warden pause|resume SERVICE [--for 1h] and warden reboot HOST:
// a person's hand on one service or host, submitted like every command (queued for a running
// daemon, applied within one pass).
import { InvalidArgumentError, type Command } from 'commander';
import { parseDuration } from '../lib/duration.js';
import { readConfig, type GlobalOpts } from './common.js';
import { submit } from './submit.js';

/** A positive duration option (30s, 10m, 1h) in milliseconds. */
export function durationOption(value: string): number {
  try {
    const ms = parseDuration(value);
    if (ms > 0) return ms;
  } catch { /* reported below */ }
  throw new InvalidArgumentError('Expected a duration such as 30s, 10m or 1h.');
}

export function registerControl(program: Command, globals: () => GlobalOpts): void {
  const ops = {
    start: 'start SERVICE once (and resume it if paused), as an action requested by you, under policy and your tier on SERVICE (docs/policy.md)',
    stop: 'stop SERVICE once and pause it, so that Warden does not start it again until "warden start" or "warden resume"',
    restart: 'restart SERVICE once, as an action requested by you, under policy and your tier on SERVICE (docs/policy.md)',
  } as const;
  for (const [op, description] of Object.entries(ops) as [keyof typeof ops, string][]) {
    program.command(`${op} <service>`).description(description)
      .option('--reason <text>', 'why (audited)')
      .option('--as <identity>', 'who is acting (default: your user name)')
      .action(async (service: string, o: { reason?: string; as?: string }) => {
        process.stdout.write(`${await submit(readConfig(globals()), { kind: 'service', op, service, reason: o.reason ?? null }, o.as)}\n`);
      });
  }
  program.command('reboot <host>')
    .description('reboot HOST once (systemctl reboot over its transport, as root or through sudo), as a host.reboot ' +
      'action requested by you; it waits for a person\'s approval unless a policy rule allows host.reboot on that ' +
      'host by name, and it is done when the host answers with a new boot id (docs/fleet.md)')
    .option('--reason <text>', 'why (audited)')
    .option('--as <identity>', 'who is acting (default: your user name)')
    .action(async (host: string, o: { reason?: string; as?: string }) => {
      process.stdout.write(`${await submit(readConfig(globals()), { kind: 'host', op: 'reboot', host, reason: o.reason ?? null }, o.as)}\n`);
    });
  program.command('pause <service>')
    .description('stop acting on SERVICE (Monit\'s unmonitor): it is still observed and shown, no ticket is acted on and Warden starts nothing on it; ' +
      'with policy.tiers set, you need tier propose on SERVICE (docs/policy.md)')
    .option('--for <duration>', 'resume by itself after this long (30s, 10m, 1h)', durationOption)
    .option('--reason <text>', 'why (audited)')
    .option('--as <identity>', 'who is acting (default: your user name)')
    .action(async (service: string, o: { for?: number; reason?: string; as?: string }) => {
      process.stdout.write(`${await submit(readConfig(globals()), { kind: 'pause', service, forMs: o.for ?? null, reason: o.reason ?? null }, o.as)}\n`);
    });
  program.command('resume <service>')
    .description('act on a paused SERVICE again (with policy.tiers set, you need tier propose on it)')
    .option('--as <identity>', 'who is acting (default: your user name)')
    .action(async (service: string, o: { as?: string }) => {
      process.stdout.write(`${await submit(readConfig(globals()), { kind: 'resume', service }, o.as)}\n`);
    });
}
