// The manager of runnables (controller-runtime style): the daemon is a list of parts — lock, store,
// drivers, notifier, executor, check scheduler, pass loop, watchdog, API — started in order and
// stopped in reverse. A start that fails part-way stops what had started, so a failed start leaves
// nothing behind (no lock held, no timer, no open store).
import { errorText } from '../lib/errors.js';

export interface Runnable {
  readonly name: string;
  start(): void | Promise<void>;
  /** Undoes start; called only for a runnable whose start completed. */
  stop(): void | Promise<void>;
}

export class Manager {
  private readonly started: Runnable[] = [];

  constructor(private readonly log: (line: string) => void = () => undefined) {}

  /** Starts each in order; on a failure, stops the started ones in reverse and rethrows. */
  async start(runnables: readonly Runnable[]): Promise<void> {
    for (const r of runnables) {
      try {
        await r.start();
      } catch (e) {
        await this.stop();
        throw e;
      }
      this.started.push(r);
    }
  }

  /** Stops every started runnable, newest first; one that fails to stop does not keep the rest running. */
  async stop(): Promise<void> {
    for (let r = this.started.pop(); r !== undefined; r = this.started.pop()) {
      try {
        await r.stop();
      } catch (e) {
        this.log(`stopping ${r.name}: ${errorText(e)}`);
      }
    }
  }

  /** Names of the runnables running now, in start order. */
  get running(): string[] {
    return this.started.map((r) => r.name);
  }
}
