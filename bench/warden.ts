// Warden under test: the real daemon (`./bin/warden run`, or the Daemon class in-process with
// --in-process) supervising the lab's web service, a real node process, next to a real redis-server.
// Every figure comes from what Warden itself recorded (audit log, exit records) or from what the
// bench saw on the wire (first HTTP 200), never from the daemon's own log lines.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { makeLab, ROOT, type Lab } from '../src/demo/lab.js';
import { fingerprintOf } from '../src/domain/detect.js';
import type { ResolvedConfig } from '../src/domain/types.js';
import { Daemon } from '../src/daemon/daemon.js';
import { waitFor } from '../src/lib/wait.js';
import { dbPath, Store, type AuditRecord } from '../src/store/store.js';
import { type Janitor, now, pollHealthy, randomBetween, sleep, waitUntil } from './lib.js';

export const SUBJECT = 'web';

export interface WardenTrial {
  fault: 'kill' | 'hang';
  /** kill -9 (or SIGSTOP) sent: bench clock, sub-ms. */
  faultAt: number;
  /** Daemon recorded the exit (kill only; its exit record's time). */
  exitObservedMs: number | null;
  /** The ticket.opened / ticket.reopened audit record. */
  ticketOpenedMs: number;
  actionExecutingMs: number | null;
  /** The restart action completed: the new process is spawned. */
  actionCompletedMs: number | null;
  /** First HTTP 200 from the new process, seen by the bench. */
  servingMs: number;
  /** The first healthy observation that verification counted (ticket.verified − healthyForMs). */
  healthySeenMs: number | null;
  /** ticket.resolvedAt − fault time. */
  verifiedMs: number;
  cause: string | null;
  reopened: boolean;
  actions: string[];
}

/** The lab as the demo runs it, with room for every trial under the bench's limits. */
async function benchLab(): Promise<{ lab: Lab; cfg: ResolvedConfig }> {
  const lab = await makeLab({ noWorker: true, restartLimit: 1000 });
  // Fifty kills in a minute *are* a crash loop, and Warden would say so (then still restart) and
  // back its restarts off; fifty reopens would be flapping, and Warden would stop repairing. The
  // bench measures one crash at a time, so each trial should be diagnosed as a single exit and
  // repaired as the first restart of its streak (immediate).
  const yaml = readFileSync(lab.configPath, 'utf8');
  const tuned = yaml.replace(/crashLoop: \{ exits: \d+,/, 'restartBackoff: { resetAfter: 1ms }\n  flapThreshold: 100000\n  crashLoop: { exits: 100000,');
  if (tuned === yaml) throw new Error(`bench: the lab's crashLoop line changed; update bench/warden.ts (${lab.configPath})`);
  writeFileSync(lab.configPath, tuned);
  return { lab, cfg: loadConfig(lab.configPath) };
}

/**
 * `./bin/warden --config CONFIG run` as a separate process, as in production, its output appended
 * to `outFile`. The janitor kills it however the bench ends. `env` is added to the daemon's
 * environment (its services inherit it). `softLimits` raises the daemon's soft rlimits (hence its
 * children's) through `sh -c 'ulimit -S …; exec …'`: the pid stays the daemon's.
 */
export function spawnWardenRun(
  janitor: Janitor, configPath: string, outFile: string,
  opts: { env?: Record<string, string>; softLimits?: { nofile?: number; nproc?: number } } = {},
): ChildProcess {
  const argv = [process.execPath, join(ROOT, 'bin', 'warden'), '--config', configPath, 'run'];
  const ulimits = [
    ...(opts.softLimits?.nofile !== undefined ? [`ulimit -S -n ${opts.softLimits.nofile}`] : []),
    ...(opts.softLimits?.nproc !== undefined ? [`ulimit -S -u ${opts.softLimits.nproc}`] : []),
  ];
  const [file, ...args] = ulimits.length > 0 ? ['sh', '-c', `${ulimits.join(' && ')} && exec "$@"`, 'sh', ...argv] : argv;
  const out = openSync(outFile, 'a');
  const child = spawn(file!, args, { stdio: ['ignore', out, out], env: { ...process.env, ...opts.env } });
  closeSync(out);
  janitor.track(child.pid, false);
  return child;
}

/** The daemon's store, opened read-only once the daemon has created and migrated it. */
export async function openStoreWhenReady(dataDir: string, timeoutMs: number, alive: () => boolean = () => true): Promise<Store> {
  return waitFor(() => {
    if (!alive()) throw new Error('warden exited before its store was ready');
    if (!existsSync(dbPath(dataDir))) return null;
    let store: Store | null = null;
    try {
      store = Store.open(dataDir, { readonly: true });
      store.listTickets({ limit: 1 });
      return store;
    } catch {
      // Not migrated yet: the daemon is still starting.
      store?.close();
      return null;
    }
  }, timeoutMs, 'warden to create a readable store', { everyMs: 10 });
}

/** SIGTERM (Warden drains and leaves its services running), SIGKILL after `graceMs`. */
export async function stopWardenRun(janitor: Janitor, child: ChildProcess, graceMs: number): Promise<void> {
  if (child.pid === undefined) return;
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((r) => { timer = setTimeout(() => { try { child.kill('SIGKILL'); } catch { /* gone */ } r(); }, graceMs); });
    await Promise.race([gone, late]);
    clearTimeout(timer);
  }
  janitor.untrack(child.pid);
}

export class WardenUnderTest {
  lab!: Lab;
  cfg!: ResolvedConfig;
  store!: Store;
  private child: ChildProcess | null = null;
  private daemon: Daemon | null = null;
  private lastResolvedAt = 0;

  constructor(private readonly janitor: Janitor, private readonly inProcess: boolean, private readonly keep: boolean) {}

  /** null until start() made the lab. */
  get labDir(): string | null {
    return (this.lab as Lab | undefined)?.dir ?? null;
  }

  get port(): number {
    return this.lab.ports.web;
  }

  get checkSpec(): ResolvedConfig['services'][number]['checks'][number] {
    const c = this.cfg.services.find((s) => s.name === SUBJECT)?.checks[0];
    if (!c) throw new Error(`the lab's ${SUBJECT} service has no check`);
    return c;
  }

  async start(): Promise<void> {
    ({ lab: this.lab, cfg: this.cfg } = await benchLab());
    const dir = this.lab.dir;
    this.janitor.onCleanup(() => {
      this.killServices();
      if (!this.keep) rmSync(dir, { recursive: true, force: true });
    });
    if (this.inProcess) {
      this.daemon = new Daemon(this.cfg, { log: () => undefined });
      await this.daemon.start();
    } else {
      const child = spawnWardenRun(this.janitor, this.lab.configPath, join(this.lab.dir, 'warden.out'));
      this.child = child;
      child.once('exit', (code, signal) => { if (this.child) process.stderr.write(`bench: warden exited early (${signal ?? code}); see ${join(this.lab.dir, 'warden.out')}\n`); });
    }
    this.store = await openStoreWhenReady(this.cfg.agent.dataDir, 20_000);
    await this.ready(30_000);
  }

  private pidOf(service: string): number | null {
    return this.store.getProcess(service)?.pid ?? null;
  }

  /** Web and cache running and healthy in Warden's eyes, nothing open, web answering 200. */
  async ready(timeoutMs = 20_000): Promise<void> {
    await waitUntil(() => {
      const health = new Map(this.store.listServiceStates().map((s) => [s.name, s.health]));
      const open = this.store.listTickets({ openOnly: true });
      return health.get(SUBJECT) === 'healthy' && health.get('cache') === 'healthy' && open.length === 0
        && this.pidOf(SUBJECT) !== null && this.pidOf('cache') !== null;
    }, timeoutMs, 'web and cache healthy with no open ticket', 20);
    for (const s of [SUBJECT, 'cache']) this.janitor.track(this.pidOf(s) ?? undefined, true);
    await pollHealthy(this.port, { deadlineMs: timeoutMs, gapMs: 20 });
  }

  /** One fault on the web service, then wait for Warden to resolve it and the lab to settle. */
  async trial(fault: 'kill' | 'hang'): Promise<WardenTrial> {
    const check = this.checkSpec;
    if (fault === 'hang') {
      // While verifying a repair Warden probes every 50 ms until stable + 2 s after the last
      // verifying pass; a hang must meet the configured probe interval, not that boost.
      const boostEnds = this.lastResolvedAt + this.cfg.agent.verifyStableMs + 2000 + 100;
      if (Date.now() < boostEnds) await sleep(boostEnds - Date.now());
    }
    // A random pause puts the fault at a random phase of the check timers and the pass timer.
    await sleep(randomBetween(0, check.intervalMs));
    const pid = this.pidOf(SUBJECT);
    if (pid === null) throw new Error('web is not running');
    const seq0 = this.store.auditHead()?.seq ?? 0;
    // Warden's records are Date.now() (whole ms): its figures are taken against the same clock.
    const faultWall = Date.now();
    const faultAt = now();
    process.kill(pid, fault === 'kill' ? 'SIGKILL' : 'SIGSTOP');

    const servingAt = await pollHealthy(this.port, {
      deadlineMs: 20_000,
      // While hung the old process holds connections open: give up on each one quickly.
      requestTimeoutMs: fault === 'hang' ? 50 : 100,
      // Only an answer from the replacement counts (a resumed old process may answer once).
      accept: () => { const p = this.pidOf(SUBJECT); return p !== null && p !== pid; },
    });
    const newPid = this.pidOf(SUBJECT);
    this.janitor.track(newPid ?? undefined, true);

    const fp = fingerprintOf(this.cfg.services.find((s) => s.name === SUBJECT)!.host, SUBJECT);
    let recs: AuditRecord[] = [];
    let ticketId: string | null = null;
    let closing: AuditRecord | undefined;
    await waitUntil(() => {
      recs = this.store.listAudit({ afterSeq: seq0 });
      const opened = recs.find((r) => (r.kind === 'ticket.opened' && r.data.service === SUBJECT) || (r.kind === 'ticket.reopened' && r.data.fingerprint === fp));
      ticketId = opened?.subject ?? null;
      closing = recs.find((r) => r.kind === 'ticket.status' && r.subject === ticketId && ['resolved', 'escalated', 'held'].includes(String(r.data.to)));
      return closing !== undefined;
    }, 30_000, `warden to close the ${fault} ticket`, 20);
    if (closing?.data.to !== 'resolved') throw new Error(`ticket ${ticketId} ${String(closing?.data.to)}: ${String(closing?.data.reason)}`);
    this.janitor.untrack(pid);

    const byKind = (kind: string, subject: string | null): AuditRecord | undefined => recs.find((r) => r.kind === kind && r.subject === subject);
    const opened = recs.find((r) => r.subject === ticketId && (r.kind === 'ticket.opened' || r.kind === 'ticket.reopened'))!;
    const proposed = recs.filter((r) => r.kind === 'action.proposed' && r.data.ticket === ticketId);
    const first = proposed[0]?.subject ?? null;
    const verified = byKind('ticket.verified', ticketId);
    const diagnosed = byKind('ticket.diagnosed', ticketId);
    const ticket = this.store.getTicket(ticketId!);
    const exit = fault === 'kill' ? this.store.recentExits(SUBJECT, 5).find((e) => e.at >= faultWall) : undefined;
    const ms = (at: number | undefined): number | null => (at === undefined ? null : at - faultWall);
    this.lastResolvedAt = ticket?.resolvedAt ?? Date.now();
    return {
      fault,
      faultAt,
      exitObservedMs: ms(exit?.at),
      ticketOpenedMs: opened.at - faultWall,
      actionExecutingMs: ms(byKind('action.executing', first)?.at),
      actionCompletedMs: ms(byKind('action.completed', first)?.at),
      servingMs: servingAt - faultAt,
      healthySeenMs: verified ? verified.at - Number(verified.data.healthyForMs) - faultWall : null,
      verifiedMs: (ticket?.resolvedAt ?? closing.at) - faultWall,
      cause: diagnosed ? String(diagnosed.data.cause) : (ticket?.cause ?? null),
      reopened: opened.kind === 'ticket.reopened',
      actions: proposed.map((r) => `${String(r.data.type)} ${String(r.data.target)}`),
    };
  }

  /** SIGTERM the daemon (it drains and leaves services running), then stop the lab's services. */
  async stop(): Promise<void> {
    if (this.daemon) await this.daemon.stop(5_000);
    const child = this.child;
    this.child = null;
    if (child) await stopWardenRun(this.janitor, child, 10_000);
    this.killServices();
    this.store?.close();
  }

  /** Warden leaves services running when it stops; the bench owns this lab, so it ends them. */
  private killServices(): void {
    for (const svc of [SUBJECT, 'cache']) {
      let pid: number | null = null;
      try { pid = this.pidOf(svc); } catch { /* store closed */ }
      if (pid === null) continue;
      try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }
}
