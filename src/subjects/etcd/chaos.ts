// Faults the etcd lab can inject, each reversible: `undo()` puts back what the fault took away
// (and does nothing the second time). Every fault acts on one member and only inside the lab: a
// signal to the member's own process, or a change inside the member's own network namespace, so
// nothing on the host's own network changes.
import { randomBytes } from 'node:crypto';
import { EtcdError, isNoSpace, type Alarm } from './client.js';
import type { EtcdLab } from './lab.js';
import { addDelay, removeDelay, setLinks } from '../../chaos/net.js';
import { haveBinary, LabError, MEMBER_IF, must } from './labnet.js';

export type FaultKind = 'kill' | 'hang' | 'partition' | 'drop' | 'latency' | 'fill-quota';

export interface Fault {
  kind: FaultKind;
  /** The member's name (m0, m1, …). */
  member: string;
  /** What was done, for logs and the audit trail. */
  detail: string;
  undo(): Promise<void>;
}

function fault(kind: FaultKind, member: string, detail: string, undo: () => Promise<void>): Fault {
  let undone: Promise<void> | null = null;
  return { kind, member, detail, undo: () => (undone ??= undo()) };
}

/** SIGKILL the member's etcd. Undo starts it again on the same data dir. */
export async function kill(lab: EtcdLab, i: number): Promise<Fault> {
  const m = lab.member(i);
  const pid = lab.pid(i);
  await lab.killMember(i);
  return fault('kill', m.name, `SIGKILL to ${m.name} (pid ${pid ?? 'none'})`, async () => {
    if (!lab.isRunning(i)) lab.startMember(i);
  });
}

/** SIGSTOP the member: alive, holding its sockets, answering nothing. Undo is SIGCONT. */
export function hang(lab: EtcdLab, i: number): Promise<Fault> {
  const m = lab.member(i);
  const pid = lab.pid(i);
  if (pid === null) throw new LabError('LAB_COMMAND_FAILED', `cannot hang ${m.name}: it does not run`);
  process.kill(pid, 'SIGSTOP');
  return Promise.resolve(fault('hang', m.name, `SIGSTOP to ${m.name} (pid ${pid})`, () => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // it died meanwhile: nothing left to continue
    }
    return Promise.resolve();
  }));
}

/** Link down on the member's eth0 inside its namespace: its process runs, nobody reaches it. */
export async function partition(lab: EtcdLab, i: number): Promise<Fault> {
  const m = lab.member(i);
  await setLinks(m.netns, [MEMBER_IF], 'down');
  return fault('partition', m.name, `link ${MEMBER_IF} down in ${m.netns}`, () => setLinks(m.netns, [MEMBER_IF], 'up'));
}

/** The nftables table the drop fault adds inside a member's namespace. */
const DROP_TABLE = 'wde_chaos';

/**
 * A firewall in the member's namespace drops every packet in and out of eth0 (loopback still
 * works): the link stays up, so this is the partition that a link check does not see.
 */
export async function drop(lab: EtcdLab, i: number): Promise<Fault> {
  const m = lab.member(i);
  if (!(await haveBinary('nft'))) throw new LabError('LAB_UNSUPPORTED', 'cannot drop traffic: no `nft` (apt-get install nftables)');
  const rules = [
    `add table inet ${DROP_TABLE}`,
    `add chain inet ${DROP_TABLE} in { type filter hook input priority 0; policy drop; }`,
    `add chain inet ${DROP_TABLE} out { type filter hook output priority 0; policy drop; }`,
    `add rule inet ${DROP_TABLE} in iif "lo" accept`,
    `add rule inet ${DROP_TABLE} out oif "lo" accept`,
  ].join('\n');
  await must(['ip', 'netns', 'exec', m.netns, 'nft', rules]);
  return fault('drop', m.name, `nft drops all but loopback in ${m.netns}`, async () => {
    await must(['ip', 'netns', 'exec', m.netns, 'nft', `delete table inet ${DROP_TABLE}`]);
  });
}

/**
 * Delays every packet leaving the member by `ms` (tc netem on its eth0). Needs the kernel's netem
 * queueing discipline (CONFIG_NET_SCH_NETEM); without it this throws LAB_UNSUPPORTED.
 */
export async function latency(lab: EtcdLab, i: number, ms: number): Promise<Fault> {
  const m = lab.member(i);
  await addDelay(m.netns, MEMBER_IF, ms);
  return fault('latency', m.name, `netem delay ${ms}ms on ${MEMBER_IF} in ${m.netns}`, () => removeDelay(m.netns, MEMBER_IF));
}

/** The key the quota filler overwrites: one key, so compaction gives all the space back. */
export const FILL_KEY = '/warden-lab/fill';

/**
 * Overwrites one key with random values through member i until etcd refuses with "database space
 * exceeded" and raises the NOSPACE alarm. Needs a lab started with a small quotaBackendBytes.
 * Undo gives the space back: compact, defragment every running member, disarm the alarms.
 */
export async function fillQuota(lab: EtcdLab, i: number, opts: { valueBytes?: number; maxBytes?: number } = {}): Promise<Fault> {
  const m = lab.member(i);
  const valueBytes = opts.valueBytes ?? 256 * 1024;
  const maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
  const c = lab.client(i, { timeoutMs: 10_000 });
  let puts = 0;
  for (;;) {
    if (puts * valueBytes > maxBytes) throw new LabError('LAB_COMMAND_FAILED', `${m.name}: no NOSPACE after writing ${puts * valueBytes} bytes; start the lab with a small quotaBackendBytes`);
    try {
      // Random bytes: nothing in bbolt compresses them, so every write costs its full size.
      await c.put(FILL_KEY, randomBytes(valueBytes));
      puts++;
    } catch (e) {
      if (isNoSpace(e)) break;
      throw e;
    }
  }
  return fault('fill-quota', m.name, `${puts} writes of ${valueBytes} bytes to ${FILL_KEY} through ${m.name} until NOSPACE`, async () => {
    await restoreSpace(lab);
  });
}

/**
 * What an operator does after NOSPACE: compact the history to the current revision, defragment
 * each running member (defragment acts on the member asked only), then disarm every alarm.
 * Returns the alarms it disarmed.
 */
export async function restoreSpace(lab: EtcdLab): Promise<Alarm[]> {
  const up = lab.members.filter((m) => lab.isRunning(m.index)).map((m) => lab.client(m.index, { timeoutMs: 30_000 }));
  const first = up[0];
  if (first === undefined) throw new LabError('LAB_COMMAND_FAILED', 'cannot restore space: no member runs');
  const { revision } = await first.status();
  try {
    await first.compact(revision);
  } catch (e) {
    // Compacted to this revision already (an earlier restore): the history is gone, as wanted.
    if (!(e instanceof EtcdError && e.etcdMessage?.includes('has been compacted') === true)) throw e;
  }
  for (const c of up) await c.defragment();
  const alarms = await first.alarms();
  for (const a of alarms) await first.disarm(a);
  return alarms;
}
