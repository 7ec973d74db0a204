// The etcd lab: a real etcd cluster (Debian's etcd-server, etcd 3.4) whose members each run in a
// network namespace of their own, on a bridge and a /24 the lab makes (labnet.ts). Warden, on the
// host, reaches every member's client URL; the members reach each other and the host, nothing
// else. Tests, the demo and `warden chaos` use it; chaos.ts breaks it in reversible ways.
//
// It lives in src/ (not lab/, whose plain .mjs programs are what Warden supervises) because it is
// typed code that the tests, the chaos command, the demo and the etcd subject's actions (restart a
// member in its namespace) import, so it is compiled, linted and shipped like the rest.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv } from '../../lib/childenv.js';
import { isAlive, readProcStat } from '../../lib/proc.js';
import { sleep } from '../../lib/wait.js';
import { EtcdClient, type EndpointStatus } from './client.js';
import {
  buildNetwork, haveBinary, killAndWait, labNames, LabError, newLabId, ownerOfThisProcess, removeLab,
  subnetFor, subnetInUse, writeRecord, type LabNames, type Subnet,
} from './labnet.js';

export const CLIENT_PORT = 2379;
export const PEER_PORT = 2380;

export interface EtcdLabOptions {
  /** Cluster size, 1 to 9; 3 by default. */
  members?: number;
  /** --quota-backend-bytes for every member; etcd's own default (2 GiB) when unset. */
  quotaBackendBytes?: number;
  /** Where data dirs and logs go; a new directory under the system's temp dir by default. */
  dir?: string;
  /** The etcd binary; `etcd` on PATH by default. */
  etcd?: string;
  /** Raft heartbeat and election timeout (etcd's defaults: 100 ms and 1000 ms). */
  heartbeatMs?: number;
  electionMs?: number;
  /** How long `start` waits for every member healthy and one leader agreed; 20 s by default. */
  readyTimeoutMs?: number;
  /** More etcd flags for every member, e.g. ['--pre-vote']. */
  extraArgs?: string[];
  /** false: build the network only, and leave starting the members to someone else (Warden, by
   *  `memberArgv`); true by default. */
  processes?: boolean;
}

export interface LabMember {
  index: number;
  /** etcd's --name: m0, m1, … */
  name: string;
  netns: string;
  /** Host end of its veth pair; its own end is `eth0` in its namespace. */
  hostVeth: string;
  ip: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  logFile: string;
}

interface RunningMember {
  child: ChildProcess;
  pid: number;
  startTime: number;
  /** Set when it exited: "exit 1" or "signal SIGKILL". */
  exit: string | null;
}

/** What the machine lacks to run the lab; empty when it can. */
export async function labProblems(etcd = 'etcd'): Promise<string[]> {
  const problems: string[] = [];
  if (process.platform !== 'linux') return [`platform is ${process.platform}; the lab needs Linux network namespaces`];
  if (process.getuid?.() !== 0) problems.push('not root (network namespaces, bridges and veths need root)');
  if (!(await haveBinary('ip'))) problems.push('no `ip` (apt-get install iproute2)');
  if (!(await haveBinary(etcd))) problems.push(`no \`${etcd}\` (apt-get install etcd-server)`);
  return problems;
}

export class EtcdLab {
  readonly id: string;
  readonly names: LabNames;
  readonly subnet: Subnet;
  /** The host's address on the lab's bridge. */
  readonly hostIp: string;
  readonly dir: string;
  readonly members: readonly LabMember[];
  private readonly opts: Required<Omit<EtcdLabOptions, 'dir' | 'quotaBackendBytes' | 'processes'>> & { quotaBackendBytes: number | undefined };
  private readonly running = new Map<number, RunningMember>();
  /** Members killed on purpose (killMember): not expected to run until started again. */
  private readonly stopped = new Set<number>();
  private destroyed = false;

  private constructor(id: string, subnet: Subnet, dir: string, opts: EtcdLabOptions) {
    this.id = id;
    this.names = labNames(id);
    this.subnet = subnet;
    this.hostIp = subnet.hostIp;
    this.dir = dir;
    this.opts = {
      members: opts.members ?? 3,
      quotaBackendBytes: opts.quotaBackendBytes,
      etcd: opts.etcd ?? 'etcd',
      heartbeatMs: opts.heartbeatMs ?? 100,
      electionMs: opts.electionMs ?? 1000,
      readyTimeoutMs: opts.readyTimeoutMs ?? 20_000,
      extraArgs: opts.extraArgs ?? [],
    };
    this.members = Array.from({ length: this.opts.members }, (_, i) => {
      const ip = subnet.memberIp(i);
      const home = join(dir, `m${i}`);
      return {
        index: i, name: `m${i}`, netns: this.names.netns(i), hostVeth: this.names.hostVeth(i), ip,
        clientUrl: `http://${ip}:${CLIENT_PORT}`, peerUrl: `http://${ip}:${PEER_PORT}`,
        dataDir: join(home, 'data'), logFile: join(home, 'etcd.log'),
      };
    });
  }

  /**
   * Builds the network, starts every member and waits until all are healthy and agree on one
   * leader. On any failure everything made so far is removed before the error is thrown.
   */
  static async start(opts: EtcdLabOptions = {}): Promise<EtcdLab> {
    const count = opts.members ?? 3;
    if (!Number.isInteger(count) || count < 1 || count > 9) throw new RangeError(`members: expected 1 to 9, got ${count}`);
    const problems = await labProblems(opts.etcd);
    if (problems.length > 0) throw new LabError('LAB_UNSUPPORTED', `the etcd lab cannot run here: ${problems.join('; ')}`);
    let id = newLabId();
    // A /24 something on the host already uses would route the lab's traffic elsewhere.
    for (let tries = 0; await subnetInUse(subnetFor(id)); tries++) {
      if (tries > 20) throw new LabError('LAB_UNSUPPORTED', 'no free /24 in 10.200.0.0/16–10.249.255.0/24 for the lab');
      id = newLabId();
    }
    const subnet = subnetFor(id);
    const ownDir = opts.dir === undefined;
    const dir = opts.dir ?? join(tmpdir(), `wde-${id}-lab`);
    writeRecord({ id, owner: ownerOfThisProcess(), dir, ownDir, subnet: subnet.cidr, createdAt: new Date().toISOString() });
    const lab = new EtcdLab(id, subnet, dir, opts);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      await buildNetwork(lab.names, subnet, count);
      // Two labs started at the same moment may have drawn the same /24.
      if (await subnetInUse(subnet, lab.names.bridge)) throw new LabError('LAB_UNSUPPORTED', `${subnet.cidr} was taken by another lab meanwhile; start again`);
      if (opts.processes === false) return lab;
      for (const m of lab.members) lab.startMember(m.index);
      await lab.waitReady();
      return lab;
    } catch (e) {
      await lab.destroy();
      throw e;
    }
  }

  /** A client for member i's client URL. */
  client(i: number, opts: { timeoutMs?: number } = {}): EtcdClient {
    return new EtcdClient(this.member(i).clientUrl, opts);
  }

  member(i: number): LabMember {
    const m = this.members[i];
    if (m === undefined) throw new RangeError(`member ${i}: the lab has members 0 to ${this.members.length - 1}`);
    return m;
  }

  /** The etcd process of member i, or null when it is not running. */
  pid(i: number): number | null {
    const r = this.running.get(i);
    return r !== undefined && r.exit === null && isAlive(r.pid, r.startTime) ? r.pid : null;
  }

  isRunning(i: number): boolean {
    return this.pid(i) !== null;
  }

  /** How member i's last process ended ("signal SIGKILL", "exit 1"); null while it runs or never ran. */
  exitOf(i: number): string | null {
    return this.running.get(i)?.exit ?? null;
  }

  /**
   * Starts member i's etcd inside its namespace. `existing` joins a running cluster (after the
   * member was removed and added again with a fresh data dir); otherwise the data dir decides:
   * etcd ignores the --initial-* flags once it has data.
   */
  startMember(i: number, opts: { existing?: boolean } = {}): number {
    if (this.destroyed) throw new LabError('LAB_NOT_READY', `lab ${this.id} was destroyed`);
    if (this.isRunning(i)) throw new LabError('LAB_COMMAND_FAILED', `member ${this.member(i).name} already runs (pid ${this.pid(i)})`);
    const m = this.member(i);
    // ETCD_* variables in our environment would override or conflict with its flags.
    const env = Object.fromEntries(Object.entries(childEnv({ PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` })).filter(([k]) => !k.startsWith('ETCD')));
    // Before the log is opened: it makes the member's directory.
    const [file, ...argv] = this.memberArgv(i, opts);
    const log = openSync(m.logFile, 'a', 0o600);
    let child: ChildProcess;
    try {
      // `ip netns exec` enters the namespace and execs etcd: the child's pid is etcd's own.
      child = spawn(file!, argv, { env, detached: true, stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    return this.track(i, m, child);
  }

  /**
   * The command that runs member i in its namespace (`ip netns exec NS etcd …`), for a supervisor
   * of its own (Warden's `kind: process` service); its data dir is made here.
   */
  memberArgv(i: number, opts: { existing?: boolean } = {}): string[] {
    const m = this.member(i);
    mkdirSync(join(this.dir, m.name), { recursive: true, mode: 0o700 });
    const args = [
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', m.clientUrl, '--advertise-client-urls', m.clientUrl,
      '--listen-peer-urls', m.peerUrl, '--initial-advertise-peer-urls', m.peerUrl,
      '--initial-cluster', this.members.map((x) => `${x.name}=${x.peerUrl}`).join(','),
      '--initial-cluster-state', opts.existing === true ? 'existing' : 'new',
      '--initial-cluster-token', this.names.token,
      '--heartbeat-interval', String(this.opts.heartbeatMs), '--election-timeout', String(this.opts.electionMs),
      '--logger', 'zap', '--log-outputs', 'stderr',
      ...(this.opts.quotaBackendBytes === undefined ? [] : ['--quota-backend-bytes', String(this.opts.quotaBackendBytes)]),
      ...this.opts.extraArgs,
    ];
    return ['ip', 'netns', 'exec', m.netns, this.opts.etcd, ...args];
  }

  private track(i: number, m: LabMember, child: ChildProcess): number {
    const pid = child.pid;
    const stat = pid === undefined ? null : readProcStat(pid);
    if (pid === undefined || stat === null) throw new LabError('LAB_COMMAND_FAILED', `could not start member ${m.name} (see ${m.logFile})`);
    const r: RunningMember = { child, pid, startTime: stat.startTime, exit: null };
    child.on('error', () => { r.exit ??= 'could not start'; });
    child.on('exit', (code, signal) => { r.exit = signal !== null ? `signal ${signal}` : `exit ${code}`; });
    // The lab must not keep a test process alive, and a crash of that process must not take the
    // members with it silently: cleanupStale() finds them by their token.
    child.unref();
    this.running.set(i, r);
    this.stopped.delete(i);
    return pid;
  }

  /**
   * Starts member i to join the running cluster after it was added (client memberAdd) with an
   * empty data dir. Waits first until every running member lists it: etcd checks its
   * --initial-cluster against the peer it asks, and exits if that peer has not applied the add yet.
   */
  async joinMember(i: number, timeoutMs = 10_000): Promise<number> {
    const m = this.member(i);
    const peers = this.expected().filter((x) => x !== i);
    const end = Date.now() + timeoutMs;
    for (;;) {
      const lists = await Promise.all(peers.map((x) => this.client(x, { timeoutMs: 1000 }).memberList().catch(() => [])));
      if (lists.every((l) => l.some((x) => x.peerUrls.includes(m.peerUrl)))) break;
      if (Date.now() > end) throw new LabError('LAB_NOT_READY', `${m.name} was not added: not every member lists ${m.peerUrl} after ${timeoutMs} ms (add it with memberAdd first)`);
      await sleep(50);
    }
    return this.startMember(i, { existing: true });
  }

  /** Members the lab started and did not kill on purpose: they should be running. */
  private expected(): number[] {
    return this.members.map((m) => m.index).filter((i) => this.running.has(i) && !this.stopped.has(i));
  }

  /** The line of member i's log that says why it stopped: its last fatal, panic or error line. */
  lastWords(i: number): string {
    let text: string;
    try {
      text = readFileSync(this.member(i).logFile, 'utf8');
    } catch {
      return '';
    }
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const why = lines.findLast((l) => /"level":"(fatal|panic)"|^panic:/.test(l)) ?? lines.findLast((l) => /"level":"error"/.test(l)) ?? lines.at(-1) ?? '';
    return why.length > 400 ? `${why.slice(0, 400)}…` : why;
  }

  /** Sends a signal to member i's etcd; false when it does not run. */
  signal(i: number, sig: NodeJS.Signals): boolean {
    const pid = this.pid(i);
    if (pid === null) return false;
    process.kill(pid, sig);
    return true;
  }

  /** SIGKILLs member i and waits until it is gone. */
  async killMember(i: number): Promise<void> {
    this.stopped.add(i);
    const pid = this.pid(i);
    if (pid !== null) await killAndWait([pid]);
  }

  /** Deletes member i's data dir: a member whose disk was lost. It must not be running. */
  wipeMember(i: number): void {
    if (this.isRunning(i)) throw new LabError('LAB_COMMAND_FAILED', `member ${this.member(i).name} runs; kill it before wiping its data`);
    rmSync(this.member(i).dataDir, { recursive: true, force: true });
  }

  hasData(i: number): boolean {
    return existsSync(join(this.member(i).dataDir, 'member'));
  }

  /** Hex member id of each member by index, as the first member that answers lists them. */
  async memberIds(timeoutMs = 1000): Promise<Map<number, string>> {
    let last: unknown;
    for (const m of this.members) {
      try {
        const list = await this.client(m.index, { timeoutMs }).memberList();
        return new Map(list.flatMap((x) => {
          const i = this.members.findIndex((y) => y.name === x.name || y.peerUrl === x.peerUrls[0]);
          return i < 0 ? [] : [[i, x.id] as const];
        }));
      } catch (e) {
        last = e;
      }
    }
    throw new LabError('LAB_NOT_READY', `etcd lab ${this.id}: no member lists the members (${last instanceof Error ? last.message : String(last)})`);
  }

  /** Every member's status as it answers now; a member that does not answer gives its error. */
  async statuses(timeoutMs = 1000): Promise<(EndpointStatus | Error)[]> {
    return Promise.all(this.members.map((m) => this.client(m.index, { timeoutMs }).status().catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))))));
  }

  /**
   * Waits until every member expected to run (started and not killed on purpose; or those in
   * `only`) is healthy and all name the same leader; returns the leader's hex id. A member that
   * exited by itself fails this at once, quoting why from its log.
   */
  async waitReady(opts: { timeoutMs?: number; only?: number[] } = {}): Promise<string> {
    const timeoutMs = opts.timeoutMs ?? this.opts.readyTimeoutMs;
    const end = Date.now() + timeoutMs;
    let last = 'no answer yet';
    for (;;) {
      const which = opts.only ?? this.expected();
      const crashed = which.filter((i) => !this.isRunning(i));
      if (crashed.length > 0) {
        const why = crashed.map((i) => `${this.member(i).name} ${this.exitOf(i) ?? 'is not running'}: ${this.lastWords(i)} (log: ${this.member(i).logFile})`);
        throw new LabError('LAB_NOT_READY', `etcd lab ${this.id}: ${why.join('; ')}`);
      }
      if (which.length === 0) {
        last = 'no member runs';
        break;
      }
      try {
        const views = await Promise.all(which.map(async (i) => {
          const c = this.client(i, { timeoutMs: 1000 });
          const h = await c.health();
          return { i, healthy: h.healthy, leader: (await c.status()).leader };
        }));
        const leaders = new Set(views.map((v) => v.leader));
        const [leader] = [...leaders];
        if (views.every((v) => v.healthy) && leaders.size === 1 && leader !== null && leader !== undefined) return leader;
        last = views.map((v) => `${this.member(v.i).name}: ${v.healthy ? 'healthy' : 'unhealthy'}, leader ${v.leader ?? 'none'}`).join('; ');
        // An alarm is the usual reason a member with a leader says it is unhealthy.
        const alarms = await this.client(which[0] ?? 0, { timeoutMs: 1000 }).alarms().catch(() => []);
        if (alarms.length > 0) last += `; alarms: ${alarms.map((a) => `${a.alarm} on ${a.memberId}`).join(', ')}`;
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
      if (Date.now() > end) break;
      await sleep(100);
    }
    const exits = this.members.map((m) => (this.exitOf(m.index) === null ? null : `${m.name} ${this.exitOf(m.index)} (log: ${m.logFile})`)).filter((x) => x !== null);
    throw new LabError('LAB_NOT_READY', `etcd lab ${this.id}: not ready after ${timeoutMs} ms (${last})${exits.length > 0 ? `; exited: ${exits.join(', ')}` : ''}`);
  }

  /** Stops every member and removes the namespaces, veths, bridge, directory and record. Idempotent. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    await killAndWait([...this.running.values()].filter((r) => r.exit === null).map((r) => r.pid));
    await removeLab(this.id);
  }
}
