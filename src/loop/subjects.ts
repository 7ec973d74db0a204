// Reading the subjects' systems: for each subject whose plugin observes (etcd asks each member for
// its status, leader and alarms), one reading per `interval`, never two at once, each bounded by a
// timeout. The latest reading goes into the world; a reading that differs from the one before wakes
// the loop, so an invariant breaking is judged at once, not at the next tick. Subjects' PromQL
// invariants are read alongside, on the same intervals (loop/promql.ts).
import { lookup } from '../plugins/plugin.js';
import type { PromqlReading, ResolvedConfig, SubjectFacts, SubjectSpec } from '../domain/types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { subjects } from '../subjects/index.js';
import type { SubjectPlugin } from '../subjects/subject.js';
import { PromqlInvariants } from './promql.js';

/** A reading may take this long at most (and never longer than the subject's interval). */
const READ_TIMEOUT_MS = 2000;
const MIN_READ_TIMEOUT_MS = 1000;

export class SubjectObserver {
  private readonly facts = new Map<string, SubjectFacts>();
  private readonly timers = new Map<string, TimerHandle>();
  private readonly aborts = new Map<string, AbortController>();
  private stopped = true;
  private readonly queries: PromqlInvariants;

  constructor(private readonly deps: { clock: Clock; config: () => ResolvedConfig; onChange: () => void; log: (line: string) => void }) {
    this.queries = new PromqlInvariants(deps);
  }

  /** The latest evaluation of every subject's PromQL invariants (World.promql). */
  promql(): Record<string, Record<string, PromqlReading>> {
    return this.queries.snapshot();
  }

  /** The latest reading of every subject that observes. */
  snapshot(): Record<string, SubjectFacts> {
    return Object.fromEntries(this.facts);
  }

  /** Start (or, after a reload, restart) reading every subject that observes. */
  start(): void {
    this.stop();
    this.stopped = false;
    const names = new Set(this.deps.config().subjects.map((s) => s.name));
    for (const name of this.facts.keys()) if (!names.has(name)) this.facts.delete(name);
    for (const spec of this.deps.config().subjects) {
      const plugin = lookup('subject', subjects, spec.type) as SubjectPlugin;
      if (plugin.observe) this.read(spec, plugin);
    }
    this.queries.start();
  }

  stop(): void {
    this.stopped = true;
    this.queries.stop();
    for (const t of this.timers.values()) this.deps.clock.clearTimeout(t);
    for (const a of this.aborts.values()) a.abort(new Error('stopped'));
    this.timers.clear();
    this.aborts.clear();
  }

  private read(spec: SubjectSpec, plugin: SubjectPlugin): void {
    const ac = new AbortController();
    this.aborts.set(spec.name, ac);
    // Within the interval, but never less than a second: a loaded host answers late, not never.
    const timeoutMs = Math.min(READ_TIMEOUT_MS, Math.max(MIN_READ_TIMEOUT_MS, spec.intervalMs));
    const timer = this.deps.clock.setTimeout(() => ac.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const done = (next: SubjectFacts): void => {
      this.deps.clock.clearTimeout(timer);
      if (this.stopped || ac.signal.aborted && this.aborts.get(spec.name) !== ac) return;
      this.aborts.delete(spec.name);
      const prev = this.facts.get(spec.name);
      this.facts.set(spec.name, next);
      if ('error' in next && (!prev || 'facts' in prev)) this.deps.log(`subject ${spec.name}: cannot read it: ${next.error}`);
      if (!prev || JSON.stringify(strip(prev)) !== JSON.stringify(strip(next))) this.deps.onChange();
      this.timers.set(spec.name, this.deps.clock.setTimeout(() => this.read(spec, plugin), spec.intervalMs));
    };
    plugin.observe!(spec, { signal: ac.signal, timeoutMs }).then(
      (facts) => done({ at: this.deps.clock.now(), facts }),
      (err: unknown) => done({ at: this.deps.clock.now(), error: err instanceof Error ? err.message : String(err) }),
    );
  }
}

/** A reading without its time: two readings that say the same thing are no change. */
function strip(f: SubjectFacts): unknown {
  return 'facts' in f ? f.facts : f.error;
}
