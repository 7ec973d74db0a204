// The dead man's switch: after a pass that completed while Warden is doing its job, a GET or POST
// to a URL (healthchecks.io style), so that something outside notices when Warden is gone or stuck.
// At most one ping per `every` (monotonic), one at a time, and off the loop: the pass only starts
// the request and never waits for it, so a slow or dead receiver slows nothing. When the loop wedges
// no pass completes, so the pings stop by themselves; nothing else sends them.
import type { HeartbeatSpec } from '../domain/types.js';
import type { Clock } from '../lib/clock.js';
import { errorText } from '../lib/errors.js';

export interface HeartbeatDeps {
  clock: Clock;
  /** Read at each pass, so a reload takes effect at once; null: no heartbeat. */
  spec: () => HeartbeatSpec | null;
  agent: () => string;
  log: (line: string) => void;
}

export class Heartbeat {
  /** Monotonic time the last ping started; -Infinity: none yet, so the first healthy pass pings. */
  private lastStart = Number.NEGATIVE_INFINITY;
  private inFlight: { ctl: AbortController; done: Promise<void> } | null = null;
  /** Why the last ping failed, while it does: logged when it starts and when it ends, not per ping. */
  private failing: string | null = null;

  constructor(private readonly deps: HeartbeatDeps) {}

  /** A pass completed and Warden is doing its job: pings when `every` has passed. Says whether it did. */
  passed(): boolean {
    const spec = this.deps.spec();
    if (spec === null || this.inFlight !== null) return false;
    const now = this.deps.clock.mono();
    if (now - this.lastStart < spec.everyMs) return false;
    this.lastStart = now;
    const ctl = new AbortController();
    const done = this.ping(spec, ctl.signal).finally(() => { this.inFlight = null; });
    this.inFlight = { ctl, done };
    return true;
  }

  /** The ping under way has ended (tests; and stop). */
  async idle(): Promise<void> {
    await this.inFlight?.done;
  }

  /** Stops a ping under way (the daemon stops). */
  async stop(): Promise<void> {
    this.inFlight?.ctl.abort();
    await this.idle();
  }

  private async ping(spec: HeartbeatSpec, signal: AbortSignal): Promise<void> {
    // The path of a healthchecks.io URL is the check's secret: only the origin is ever logged.
    const where = new URL(spec.url).origin;
    let error: string | null = null;
    try {
      const body = spec.method === 'POST' ? `${this.deps.agent()}: pass completed at ${new Date(this.deps.clock.now()).toISOString()}\n` : undefined;
      const res = await fetch(spec.url, { method: spec.method, body, signal: AbortSignal.any([signal, AbortSignal.timeout(spec.timeoutMs)]) });
      await res.body?.cancel();
      if (!res.ok) error = `HTTP ${res.status}`;
    } catch (e) {
      if (signal.aborted) return;
      error = errorText(e);
    }
    if (error !== null && this.failing === null) this.deps.log(`heartbeat: ping to ${where} failed: ${error}; pinging on every ${spec.everyMs} ms`);
    if (error === null && this.failing !== null) this.deps.log(`heartbeat: ping to ${where} answered again (it failed with: ${this.failing})`);
    this.failing = error;
  }
}
