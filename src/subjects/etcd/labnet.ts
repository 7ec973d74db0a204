// The lab's network: one Linux bridge per lab, one network namespace per member joined to it by
// a veth pair, a private /24, the host on .1. Every name the lab makes starts with `wde-<id>-`, and
// a record under /run/warden-lab says which process owns the lab, so a later run can find and
// remove what a crashed test left behind without touching a lab that is still in use.
//
// Nothing here routes anywhere: the namespaces have no default route and the bridge has no uplink,
// so a member can reach the other members and the host, and nothing else.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WardenError } from '../../lib/errors.js';
import { childEnv } from '../../lib/childenv.js';
import { isAlive, listPids, readCmdline, readProcStat } from '../../lib/proc.js';
import { sleep } from '../../lib/wait.js';

/** Every bridge, veth, namespace, record and process token of an etcd lab starts with this. */
export const LAB_PREFIX = 'wde-';
/** Where labs record their owner; /run is emptied at boot, as network namespaces are. */
export const REGISTRY_DIR = '/run/warden-lab';
/** Lab ids: 6 hex digits, so `wde-<id>-br` is 13 characters (Linux allows 15 for a link name). */
const ID_RE = /^[0-9a-f]{6}$/;
const NAME_RE = /^wde-([0-9a-f]{6})-/;

export type LabErrorCode =
  /** The machine cannot run the lab (not root, a tool or a kernel feature missing). */
  | 'LAB_UNSUPPORTED'
  /** A command the lab ran failed. */
  | 'LAB_COMMAND_FAILED'
  /** A member did not come up, or the cluster did not form, in time. */
  | 'LAB_NOT_READY';

export class LabError extends WardenError {
  declare readonly code: LabErrorCode;
  constructor(code: LabErrorCode, message: string, opts: { cause?: unknown } = {}) {
    super(code, message, opts);
  }
}

// ---- commands ---------------------------------------------------------------------------------

export interface CommandResult {
  /** Exit status; null when the command could not run or was killed by the timeout. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** ip, tc and nft live in /usr/sbin, which a non-login shell's PATH may lack. */
const PATH = [process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'].filter(Boolean).join(':');

/** Runs argv (no shell) with a deadline; never rejects: a failure is an answer too. */
export function run(argv: readonly string[], timeoutMs = 10_000): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new TypeError('run: empty argv');
  return new Promise((resolve) => {
    execFile(file, args, { env: childEnv({ PATH, LC_ALL: 'C' }), timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err === null) return resolve({ code: 0, stdout, stderr });
      const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
      if (typeof e.code === 'number') return resolve({ code: e.code, stdout, stderr });
      resolve({ code: null, stdout, stderr: e.killed === true ? `timed out after ${timeoutMs} ms` : e.message });
    });
  });
}

/** Runs argv and throws LabError quoting the command and its stderr when it fails. */
export async function must(argv: readonly string[], timeoutMs?: number): Promise<string> {
  const r = await run(argv, timeoutMs);
  if (r.code !== 0) throw new LabError('LAB_COMMAND_FAILED', `\`${argv.join(' ')}\` failed (${r.code === null ? 'did not finish' : `exit ${r.code}`}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** True when a binary is on PATH (sbin included). */
export async function haveBinary(name: string): Promise<boolean> {
  return (await run(['sh', '-c', `command -v ${name}`])).code === 0;
}

// ---- names and addresses -----------------------------------------------------------------------

export interface LabNames {
  id: string;
  bridge: string;
  /** Namespace of member i. */
  netns(i: number): string;
  /** Host end of member i's veth pair (the other end is `eth0` inside its namespace). */
  hostVeth(i: number): string;
  /** Passed to every member as --initial-cluster-token: finds a lab's processes in /proc. */
  token: string;
}

export function labNames(id: string): LabNames {
  if (!ID_RE.test(id)) throw new TypeError(`lab id ${JSON.stringify(id)}: expected 6 hex digits`);
  const p = `${LAB_PREFIX}${id}`;
  return { id, bridge: `${p}-br`, netns: (i) => `${p}-m${i}`, hostVeth: (i) => `${p}-h${i}`, token: p };
}

export const newLabId = (): string => randomBytes(3).toString('hex');

/** The interface name inside every member's namespace. */
export const MEMBER_IF = 'eth0';

export interface Subnet {
  /** "10.213.7" — the /24's first three octets. */
  base: string;
  cidr: string;
  hostIp: string;
  memberIp(i: number): string;
}

/**
 * The lab's /24, derived from its id: 10.200.0.0–10.249.255.0, 12,800 choices, so labs running at
 * once rarely meet; `claimSubnet` checks the host's addresses and routes all the same.
 */
export function subnetFor(id: string): Subnet {
  const n = Number.parseInt(id, 16);
  const base = `10.${200 + ((n >>> 8) % 50)}.${n & 0xff}`;
  return { base, cidr: `${base}.0/24`, hostIp: `${base}.1`, memberIp: (i) => `${base}.${11 + i}` };
}

/** True when any address or route on the host already lies in `subnet`. */
export async function subnetInUse(subnet: Subnet, exceptLink?: string): Promise<boolean> {
  const addrs = JSON.parse(await must(['ip', '-j', '-4', 'addr', 'show'])) as { ifname: string; addr_info?: { local?: string }[] }[];
  for (const link of addrs) {
    if (link.ifname === exceptLink) continue;
    if ((link.addr_info ?? []).some((a) => a.local?.startsWith(`${subnet.base}.`))) return true;
  }
  const routes = JSON.parse(await must(['ip', '-j', '-4', 'route', 'show'])) as { dst?: string; dev?: string }[];
  return routes.some((r) => r.dev !== exceptLink && r.dst !== undefined && r.dst !== 'default' && overlaps(r.dst, subnet.cidr));
}

function overlaps(a: string, b: string): boolean {
  const [ab, am] = parseCidr(a);
  const [bb, bm] = parseCidr(b);
  const mask = Math.min(am, bm);
  const m = mask === 0 ? 0 : (~0 << (32 - mask)) >>> 0;
  return ((ab & m) >>> 0) === ((bb & m) >>> 0);
}

function parseCidr(c: string): [number, number] {
  const [ip = '', bits] = c.split('/');
  const n = ip.split('.').reduce((acc, o) => (acc * 256) + Number(o), 0);
  return [n >>> 0, bits === undefined ? 32 : Number(bits)];
}

// ---- building the network ----------------------------------------------------------------------

/** Makes the bridge (host on .1) and one namespace per member with `eth0` on .11, .12, … */
export async function buildNetwork(n: LabNames, subnet: Subnet, members: number): Promise<void> {
  await must(['ip', 'link', 'add', n.bridge, 'type', 'bridge']);
  await must(['ip', 'addr', 'add', `${subnet.hostIp}/24`, 'dev', n.bridge]);
  await must(['ip', 'link', 'set', n.bridge, 'up']);
  for (let i = 0; i < members; i++) {
    const ns = n.netns(i);
    await must(['ip', 'netns', 'add', ns]);
    await must(['ip', 'link', 'add', n.hostVeth(i), 'type', 'veth', 'peer', 'name', MEMBER_IF, 'netns', ns]);
    await must(['ip', 'link', 'set', n.hostVeth(i), 'master', n.bridge, 'up']);
    await must(['ip', '-n', ns, 'addr', 'add', `${subnet.memberIp(i)}/24`, 'dev', MEMBER_IF]);
    await must(['ip', '-n', ns, 'link', 'set', MEMBER_IF, 'up']);
    await must(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
  }
}

// ---- the owner record -------------------------------------------------------------------------

export interface LabRecord {
  id: string;
  /** The process that made the lab; the lab is stale once it is gone. */
  owner: { pid: number; startTime: number };
  /** The lab's directory, and whether the lab made it (and so removes it). */
  dir: string;
  ownDir: boolean;
  subnet: string;
  createdAt: string;
}

const recordPath = (id: string): string => join(REGISTRY_DIR, `${LAB_PREFIX}${id}.json`);

/** Written before anything else of the lab exists, so nothing of a live lab is ever unowned. */
export function writeRecord(r: LabRecord): void {
  mkdirSync(REGISTRY_DIR, { recursive: true, mode: 0o700 });
  writeFileSync(recordPath(r.id), `${JSON.stringify(r, null, 2)}\n`, { mode: 0o600 });
}

export function ownerOfThisProcess(): LabRecord['owner'] {
  const stat = readProcStat(process.pid);
  if (stat === null) throw new LabError('LAB_UNSUPPORTED', 'cannot read /proc/self/stat: the lab needs Linux with /proc');
  return { pid: process.pid, startTime: stat.startTime };
}

function readRecord(id: string): LabRecord | null {
  try {
    return JSON.parse(readFileSync(recordPath(id), 'utf8')) as LabRecord;
  } catch {
    return null;
  }
}

// ---- finding and removing a lab's leftovers ------------------------------------------------------

/** What exists of a lab on this machine right now. */
export interface LabTraces {
  links: string[];
  netns: string[];
  /** Processes in its namespaces or carrying its token. */
  pids: number[];
  record: boolean;
}

async function linkNames(): Promise<string[]> {
  const links = JSON.parse(await must(['ip', '-j', 'link', 'show'])) as { ifname: string }[];
  return links.map((l) => l.ifname);
}

async function netnsNames(): Promise<string[]> {
  const out = await must(['ip', 'netns', 'list']);
  // "name (id: 3)" or "name".
  return out.split('\n').map((l) => l.split(' ')[0] ?? '').filter((s) => s !== '');
}

/** The --initial-cluster-token an etcd process was started with, if any. */
function tokenOf(argv: readonly string[]): string | undefined {
  const at = argv.indexOf('--initial-cluster-token');
  return at >= 0 ? argv[at + 1] : argv.find((a) => a.startsWith('--initial-cluster-token='))?.split('=')[1];
}

/** Processes whose argv carries an --initial-cluster-token starting with `prefix`. */
function tokenPids(prefix: string): number[] {
  const pids: number[] = [];
  for (const pid of listPids()) {
    const argv = readCmdline(pid);
    if (argv === null) continue;
    if (tokenOf(argv)?.startsWith(prefix) === true && readProcStat(pid)?.state !== 'Z') pids.push(pid);
  }
  return pids;
}

async function netnsPids(ns: string): Promise<number[]> {
  const r = await run(['ip', 'netns', 'pids', ns]);
  return r.code === 0 ? r.stdout.split('\n').filter((s) => /^\d+$/.test(s)).map(Number) : [];
}

/** Everything of lab `id` (or, with no id, of every etcd lab) that exists now. */
export async function traces(id?: string): Promise<LabTraces> {
  const prefix = id === undefined ? LAB_PREFIX : `${LAB_PREFIX}${id}-`;
  const token = id === undefined ? LAB_PREFIX : `${LAB_PREFIX}${id}`;
  const links = (await linkNames()).filter((l) => l.startsWith(prefix));
  const netns = (await netnsNames()).filter((l) => l.startsWith(prefix));
  const pids = new Set(tokenPids(token));
  for (const ns of netns) for (const p of await netnsPids(ns)) pids.add(p);
  const record = id === undefined ? readdirSafe(REGISTRY_DIR).some((f) => f.startsWith(LAB_PREFIX)) : readRecord(id) !== null;
  return { links, netns, pids: [...pids].sort((a, b) => a - b), record };
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** SIGKILLs pids and waits (up to 5 s) until none runs; a stopped process dies of SIGKILL too. */
export async function killAndWait(pids: readonly number[]): Promise<void> {
  const targets = pids.map((pid) => ({ pid, start: readProcStat(pid)?.startTime })).filter((t): t is { pid: number; start: number } => t.start !== undefined);
  for (const t of targets) {
    try {
      process.kill(t.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  const end = Date.now() + 5000;
  while (targets.some((t) => isAlive(t.pid, t.start)) && Date.now() < end) await sleep(20);
}

/**
 * Removes every trace of lab `id`: its processes, veths, namespaces, bridge, directory (when the
 * lab made it) and record, in that order. Idempotent: what is already gone is skipped.
 */
export async function removeLab(id: string): Promise<void> {
  const n = labNames(id);
  const prefix = `${LAB_PREFIX}${id}-`;
  const t = await traces(id);
  await killAndWait(t.pids);
  // A veth dies with its namespace, but only once the kernel frees the namespace, which sockets
  // closing in the background can delay for a long time: delete the host ends explicitly.
  for (const link of t.links.filter((l) => l !== n.bridge)) await ignoreGone(['ip', 'link', 'del', link]);
  for (const ns of t.netns) await ignoreGone(['ip', 'netns', 'del', ns]);
  if (t.links.includes(n.bridge)) await ignoreGone(['ip', 'link', 'del', n.bridge]);
  const record = readRecord(id);
  if (record?.ownDir === true && record.dir.includes(prefix.slice(0, -1))) rmSync(record.dir, { recursive: true, force: true });
  rmSync(recordPath(id), { force: true });
}

/** Deletes something that may have gone meanwhile: only a failure that leaves it in place throws. */
async function ignoreGone(argv: string[]): Promise<void> {
  const r = await run(argv);
  if (r.code === 0 || /Cannot find device|No such file|does not exist/i.test(r.stderr)) return;
  throw new LabError('LAB_COMMAND_FAILED', `\`${argv.join(' ')}\` failed: ${r.stderr.trim()}`);
}

/**
 * Removes what crashed etcd labs left behind: every lab whose names start with `wde-` and whose
 * owner process is gone (or that has no record). Labs whose owner still runs are left alone, so
 * tests running at once do not break each other. Returns the ids removed.
 */
export async function cleanupStale(): Promise<string[]> {
  const ids = new Set<string>();
  const t = await traces();
  for (const name of [...t.links, ...t.netns]) {
    const m = NAME_RE.exec(name);
    if (m?.[1] !== undefined) ids.add(m[1]);
  }
  for (const f of readdirSafe(REGISTRY_DIR)) {
    const m = /^wde-([0-9a-f]{6})\.json$/.exec(f);
    if (m?.[1] !== undefined) ids.add(m[1]);
  }
  for (const pid of t.pids) {
    const m = /^wde-([0-9a-f]{6})$/.exec(tokenOf(readCmdline(pid) ?? []) ?? '');
    if (m?.[1] !== undefined) ids.add(m[1]);
  }
  const removed: string[] = [];
  for (const id of [...ids].sort()) {
    const r = readRecord(id);
    if (r !== null && isAlive(r.owner.pid, r.owner.startTime)) continue;
    await removeLab(id);
    removed.push(id);
  }
  return removed;
}
