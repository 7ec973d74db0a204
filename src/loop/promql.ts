// Subjects' PromQL invariants (config `promql:`), evaluated against agent.prometheus every subject
// `interval`: one round at a time per subject, each query bounded by a timeout. Each invariant is
// judged alert-style exactly as the promql probe judges a check (probes/promql/promql.ts: a series
// must be returned for `for` on the monotonic clock), and its latest reading goes into the world,
// where detection turns a firing one into an invariant_violated finding (domain/subject.ts).
import type { PromqlInvariantSpec, PromqlReading, ResolvedConfig, SubjectSpec } from '../domain/types.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { errorText } from '../lib/errors.js';
import { judge, type Pending } from '../probes/promql/promql.js';
import { instantQuery } from '../probes/promql/query.js';

/** One query may take this long at most (and never longer than the subject's interval). */
const QUERY_TIMEOUT_MS = 2000;

/** What an invariant's pending time belongs to: a changed expr, `for` or Prometheus starts over. */
const identity = (url: string, s: SubjectSpec, inv: PromqlInvariantSpec): string => JSON.stringify([s.name, inv.id, url, inv.expr, inv.forMs]);

export class PromqlInvariants {
  private readonly readings = new Map<string, Record<string, PromqlReading>>();
  private readonly pending = new Map<string, Pending>();
  private readonly timers = new Map<string, TimerHandle>();
  /** Bumped by every start and stop: a round that began before answers into nothing. */
  private generation = 0;

  constructor(private readonly deps: { clock: Clock; config: () => ResolvedConfig; onChange: () => void; log: (line: string) => void }) {}

  /** Subject → invariant id → its latest reading. */
  snapshot(): Record<string, Record<string, PromqlReading>> {
    return Object.fromEntries([...this.readings].map(([k, v]) => [k, { ...v }]));
  }

  /** Start (or, after a reload, restart) evaluating; unchanged invariants keep their pending time. */
  start(): void {
    this.stop();
    const gen = this.generation;
    const cfg = this.deps.config();
    const keep = new Set<string>();
    for (const s of cfg.subjects) for (const inv of s.promql ?? []) keep.add(identity(cfg.agent.prometheus, s, inv));
    for (const k of this.pending.keys()) if (!keep.has(k)) this.pending.delete(k);
    // A reading of an invariant that changed or went says nothing of the new one.
    for (const [subject, byId] of this.readings) {
      const s = cfg.subjects.find((x) => x.name === subject);
      for (const id of Object.keys(byId)) {
        const inv = s?.promql?.find((x) => x.id === id);
        if (!s || !inv || !this.pending.has(identity(cfg.agent.prometheus, s, inv))) delete byId[id];
      }
      if (Object.keys(byId).length === 0) this.readings.delete(subject);
    }
    for (const s of cfg.subjects) if ((s.promql ?? []).length > 0) void this.round(s, cfg.agent.prometheus, gen);
  }

  stop(): void {
    this.generation++;
    for (const t of this.timers.values()) this.deps.clock.clearTimeout(t);
    this.timers.clear();
  }

  /** Evaluates every invariant of one subject, then schedules the next round. */
  private async round(s: SubjectSpec, url: string, gen: number): Promise<void> {
    const timeoutMs = Math.min(QUERY_TIMEOUT_MS, s.intervalMs);
    const results = await Promise.all((s.promql ?? []).map(async (inv) => ({ inv, ...(await this.query(url, inv, timeoutMs)) })));
    if (gen !== this.generation) return;
    const byId = this.readings.get(s.name) ?? {};
    let changed = false;
    for (const { inv, samples, error } of results) {
      const key = identity(url, s, inv);
      const prev = byId[inv.id];
      const at = this.deps.clock.now();
      let next: PromqlReading;
      if (samples) {
        let pending = this.pending.get(key);
        if (!pending) this.pending.set(key, pending = new Map());
        const j = judge(inv.forMs, samples, pending, this.deps.clock.mono());
        const values = j.hot.map((x) => x.value).filter(Number.isFinite);
        next = { at, firing: j.firing, message: j.message, value: values.length > 0 ? Math.max(...values) : null };
      } else {
        // Prometheus keeps an alert's state across a failed evaluation; so does this.
        next = { at, firing: prev?.firing ?? false, message: prev?.message ?? 'not evaluated yet', value: prev?.value ?? null, error: error ?? 'unknown error' };
        if (prev?.error === undefined) this.deps.log(`subject ${s.name}: PromQL invariant ${inv.id}: cannot ask Prometheus: ${next.error}`);
      }
      if (prev?.firing !== next.firing) changed = true;
      byId[inv.id] = next;
    }
    this.readings.set(s.name, byId);
    // Only a verdict that turned wakes the loop: values move on every scrape.
    if (changed) this.deps.onChange();
    this.timers.set(s.name, this.deps.clock.setTimeout(() => void this.round(s, url, gen), s.intervalMs));
  }

  private async query(url: string, inv: PromqlInvariantSpec, timeoutMs: number): Promise<{ samples?: Awaited<ReturnType<typeof instantQuery>>; error?: string }> {
    try {
      return { samples: await instantQuery(url, inv.expr, timeoutMs) };
    } catch (e) {
      return { error: errorText(e) };
    }
  }
}
