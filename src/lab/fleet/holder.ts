// `warden lab fleet up|down|status`: the lab outlives the command that brings it up. Its
// containers are children of one detached holder process (`warden lab fleet hold`), which owns the
// lab's record (so no other lab's clean-up mistakes it for a crashed one), boots a host again when
// it reboots itself, and takes the lab down on SIGUSR2 (SIGTERM and SIGINT also end it, through
// the container harness's last-resort hooks, which kill the containers at once; `down` then removes
// the network and files the holder could not). The holder publishes what it built in a
// state file; `up` waits for that file, `down` signals the holder and waits for it to go, and
// `status` asks each host over SSH with the lab's own key.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive, readProcStat } from '../../lib/proc.js';
import { sleep } from '../../lib/wait.js';
import { LabError, REGISTRY_DIR, removeLab, run } from '../../subjects/etcd/labnet.js';
import { assertFleetReady, FleetLab, type FleetLabInfo } from './lab.js';

/** The one fleet lab `warden lab fleet` manages on this machine; /run empties at boot, as the lab does. */
export const STATE_FILE = join(REGISTRY_DIR, 'fleet.json');
const LOG_FILE = join(REGISTRY_DIR, 'fleet.log');
/** Where the lab's directory (keys, known_hosts) goes: root-only, beside the record. */
const PARENT_DIR = join(REGISTRY_DIR, 'fleet.d');

export interface FleetState extends FleetLabInfo {
  holder: { pid: number; startTime: number };
  createdAt: string;
}

function readState(): FleetState | null {
  try {
    return JSON.parse(readFileSync(STATE_FILE, 'utf8')) as FleetState;
  } catch {
    return null;
  }
}

const holderAlive = (s: FleetState): boolean => isAlive(s.holder.pid, s.holder.startTime);

/**
 * The holder's body: bring the lab up, publish it, and keep it until SIGUSR2 (`down`). A failure
 * to come up is written to stderr (the log `up` quotes) and rethrown.
 */
export async function holdFleetLab(): Promise<void> {
  const lab = await FleetLab.up({ parent: PARENT_DIR });
  const stat = readProcStat(process.pid);
  const state: FleetState = { ...lab.info(), holder: { pid: process.pid, startTime: stat?.startTime ?? 0 }, createdAt: new Date().toISOString() };
  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((res) => { stop = res; });
  process.once('SIGUSR2', () => stop());
  // Atomically: `up` must never read half a file.
  writeFileSync(`${STATE_FILE}.tmp`, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${STATE_FILE}.tmp`, STATE_FILE);
  process.stderr.write(`fleet lab ${lab.id} is up\n`);
  await stopped;
  try {
    await lab.down();
  } finally {
    rmSync(STATE_FILE, { force: true });
  }
}

export interface UpResult { state: FleetState; created: boolean }

/** Brings the lab up through a detached holder; when one is already up, returns it (idempotent). */
export async function fleetUp(timeoutMs = 15 * 60_000): Promise<UpResult> {
  assertFleetReady();
  const existing = readState();
  if (existing !== null && holderAlive(existing)) return { state: existing, created: false };
  if (existing !== null) await clearDead(existing);
  mkdirSync(PARENT_DIR, { recursive: true, mode: 0o700 });
  const log = openSync(LOG_FILE, 'w', 0o600);
  const main = fileURLToPath(new URL('../../main.js', import.meta.url));
  const child = spawn(process.execPath, [main, 'lab', 'fleet', 'hold'], { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  let exited: number | null | undefined;
  child.on('exit', (code) => { exited = code; });
  child.unref();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = readState();
    if (s !== null && s.holder.pid === child.pid) return { state: s, created: true };
    if (exited !== undefined) throw new LabError('LAB_NOT_READY', `the fleet lab did not come up (its holder exited ${exited}):\n${tail(LOG_FILE)}`);
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new LabError('LAB_NOT_READY', `the fleet lab was not up within ${timeoutMs / 1000} s; its log ${LOG_FILE} ends:\n${tail(LOG_FILE)}`);
    }
    await sleep(200);
  }
}

/** Takes the lab down; false when there was none (idempotent). */
export async function fleetDown(timeoutMs = 60_000): Promise<boolean> {
  const s = readState();
  if (s === null) return false;
  if (!holderAlive(s)) {
    await clearDead(s);
    return true;
  }
  process.kill(s.holder.pid, 'SIGUSR2');
  const deadline = Date.now() + timeoutMs;
  while (holderAlive(s)) {
    if (Date.now() > deadline) throw new LabError('LAB_COMMAND_FAILED', `the fleet lab's holder (pid ${s.holder.pid}) did not stop within ${timeoutMs / 1000} s; see ${LOG_FILE}`);
    await sleep(100);
  }
  // The holder removes everything itself; this only catches what a holder killed meanwhile left.
  await clearDead(s);
  return true;
}

/** What a holder that died left behind: containers die with it, the network and record do not. */
async function clearDead(s: FleetState): Promise<void> {
  await removeLab(s.id);
  rmSync(s.dir, { recursive: true, force: true });
  rmSync(STATE_FILE, { force: true });
}

export interface HostStatus {
  name: string;
  ip: string;
  /** An SSH round-trip with the lab's key and known_hosts worked. */
  reachable: boolean;
  bootId: string | null;
  /** The lab's unit on the host: `active`, `failed`, … (null when the host does not answer). */
  unit: string | null;
  /** Warden's own link to the host is cut (a blackhole route on this machine). */
  cut: boolean;
  detail: string;
}

export interface FleetStatus {
  up: boolean;
  /** The holder died and left some of the lab behind: `down` removes it. */
  stale: boolean;
  lab: FleetState | null;
  hosts: HostStatus[];
}

export async function fleetStatus(): Promise<FleetStatus> {
  const s = readState();
  if (s === null) return { up: false, stale: false, lab: null, hosts: [] };
  if (!holderAlive(s)) return { up: false, stale: true, lab: s, hosts: [] };
  const hosts = await Promise.all(s.hosts.map((h) => hostStatus(s, h)));
  return { up: true, stale: false, lab: s, hosts };
}

async function hostStatus(s: FleetState, h: FleetState['hosts'][number]): Promise<HostStatus> {
  const cut = (await run(['ip', 'route', 'show', 'type', 'blackhole', `${h.ip}/32`])).stdout.trim() !== '';
  const r = await run(['ssh', ...sshOptions(s), `root@${h.ip}`, `cat /proc/sys/kernel/random/boot_id; systemctl is-active ${s.unit}`], 8_000);
  const [bootId = '', unit = ''] = r.stdout.trim().split('\n');
  // is-active exits non-zero for an inactive unit: the round-trip worked if the boot id came back.
  const reachable = /^[0-9a-f-]{36}$/.test(bootId);
  return {
    name: h.name, ip: h.ip, reachable, cut,
    bootId: reachable ? bootId : null,
    unit: reachable ? unit : null,
    detail: reachable ? 'answers over SSH' : (r.stderr.trim().split('\n').at(-1) ?? 'no answer'),
  };
}

/** The options Warden's own config uses for the lab's hosts: its key, its known_hosts, no prompts. */
export function sshOptions(s: Pick<FleetLabInfo, 'identityFile' | 'knownHostsFile'>): string[] {
  return ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=2', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${s.knownHostsFile}`, '-o', 'IdentitiesOnly=yes', '-i', s.identityFile];
}

function tail(path: string, lines = 20): string {
  if (!existsSync(path)) return '(no log)';
  return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}
