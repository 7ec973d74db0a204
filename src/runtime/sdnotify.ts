// systemd's notify protocol (Type=notify): READY=1 after the first full pass, WATCHDOG=1 only
// while the loop makes progress, STATUS= a one-line summary. Node has no unix datagram sockets,
// so messages go through systemd-notify with --pid naming Warden's main process; the unit sets
// NotifyAccess=all so systemd accepts them from that helper.
import { execFile } from 'node:child_process';
import { childEnv } from '../lib/childenv.js';

export class SdNotify {
  readonly enabled: boolean;
  /** Half of WatchdogSec, as systemd recommends; null when the unit has no watchdog. */
  readonly watchdogEveryMs: number | null;

  constructor(env: NodeJS.ProcessEnv = process.env, private readonly log: (l: string) => void = () => undefined) {
    this.enabled = !!env.NOTIFY_SOCKET;
    const usec = Number(env.WATCHDOG_USEC ?? NaN);
    const forUs = !env.WATCHDOG_PID || Number(env.WATCHDOG_PID) === process.pid;
    this.watchdogEveryMs = this.enabled && forUs && usec > 0 ? Math.max(100, Math.floor(usec / 2000)) : null;
  }

  send(fields: Record<string, string>): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    const args = [`--pid=${process.pid}`, ...Object.entries(fields).map(([k, v]) => `${k}=${v.replace(/\n/g, ' ')}`)];
    return new Promise((resolve) => {
      execFile('systemd-notify', args, { env: childEnv(), timeout: 5000 }, (err) => {
        if (err) this.log(`sd_notify ${Object.keys(fields).join(',')} failed: ${err.message}`);
        resolve();
      });
    });
  }
}
