// Network faults inside one network namespace, the lab's unit of isolation: take its links down,
// or delay what leaves them (tc netem). Shared by the etcd lab's chaos (subjects/etcd/chaos.ts) and
// `warden chaos`, which finds the namespace a service's process runs in. Nothing here touches the
// host's own namespace: a fault there would cut off more than its target.
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LabError, must, run } from '../subjects/etcd/labnet.js';

/** Where `ip netns add` binds named namespaces. */
const NETNS_DIR = '/run/netns';

/** The namespace's inode, as /proc/PID/ns/net names it (`net:[4026532]`); null when unreadable. */
function nsInode(pid: number | 'self'): number | null {
  try {
    const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/net`));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * The named namespace (`ip netns`) a process runs in: null when it shares this process's own (the
 * host's); throws when it runs in one that has no name, which `ip -n` cannot reach.
 */
export function netnsOf(pid: number): string | null {
  const ino = nsInode(pid);
  if (ino === null) throw new LabError('LAB_COMMAND_FAILED', `cannot read the network namespace of pid ${pid} (gone, or not ours to read)`);
  if (ino === nsInode('self')) return null;
  let names: string[] = [];
  try {
    names = readdirSync(NETNS_DIR);
  } catch {
    // no named namespaces at all
  }
  const name = names.find((n) => {
    try {
      return statSync(join(NETNS_DIR, n)).ino === ino;
    } catch {
      return false;
    }
  });
  if (name === undefined) throw new LabError('LAB_UNSUPPORTED', `pid ${pid} runs in a network namespace without a name in ${NETNS_DIR}; start it with "ip netns exec NAME …" so its links can be reached`);
  return name;
}

/** The namespace's links other than loopback, by name. */
export async function linksOf(netns: string): Promise<string[]> {
  const out = JSON.parse(await must(['ip', '-n', netns, '-j', 'link', 'show'])) as { ifname: string; flags?: string[] }[];
  return out.filter((l) => l.ifname !== 'lo' && !(l.flags ?? []).includes('LOOPBACK')).map((l) => l.ifname);
}

/** Sets links up or down inside the namespace. */
export async function setLinks(netns: string, links: readonly string[], state: 'up' | 'down'): Promise<void> {
  for (const l of links) await must(['ip', '-n', netns, 'link', 'set', l, state]);
}

/**
 * Delays every packet leaving `dev` in the namespace by `ms` with tc netem. Needs the kernel's
 * netem queueing discipline (CONFIG_NET_SCH_NETEM); without it this throws LAB_UNSUPPORTED.
 */
export async function addDelay(netns: string, dev: string, ms: number): Promise<void> {
  if (!Number.isInteger(ms) || ms < 1 || ms > 60_000) throw new RangeError(`latency: expected 1 to 60000 ms, got ${ms}`);
  const r = await run(['ip', 'netns', 'exec', netns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'netem', 'delay', `${ms}ms`]);
  if (r.code === 0) return;
  if (/qdisc kind is unknown/i.test(r.stderr)) {
    throw new LabError('LAB_UNSUPPORTED', 'cannot add latency: this kernel has no netem queueing discipline (CONFIG_NET_SCH_NETEM is not set)');
  }
  throw new LabError('LAB_COMMAND_FAILED', `tc netem in ${netns} failed: ${r.stderr.trim()}`);
}

/** Removes the delay addDelay put on `dev`. */
export async function removeDelay(netns: string, dev: string): Promise<void> {
  await must(['ip', 'netns', 'exec', netns, 'tc', 'qdisc', 'del', 'dev', dev, 'root']);
}
