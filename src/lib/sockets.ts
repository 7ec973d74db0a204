// Who listens on a TCP port, from /proc: the listening sockets' inodes in /proc/net/tcp{,6} matched
// against the socket links in /proc/*/fd. Processes whose descriptors cannot be read (another user,
// without root) are simply not named: the port is still reported as held.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { listPids, readCmdline } from './proc.js';

export interface PortHolder {
  pid: number;
  /** argv joined by spaces, bounded: it is shown to people, not executed. */
  command: string;
}

export interface PortListeners {
  port: number;
  /** A socket listens on the port now (on any address, IPv4 or IPv6). */
  held: boolean;
  /** The processes holding that socket, when their descriptors could be read. */
  holders: PortHolder[];
}

const LISTEN = '0A';
const MAX_COMMAND = 200;

/** Inodes of the sockets listening on `port`, from one /proc/net table. */
function listeningInodes(table: string, port: number): string[] {
  let text: string;
  try {
    text = readFileSync(table, 'utf8');
  } catch {
    return [];
  }
  const inodes: string[] = [];
  // "sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ..." per line.
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const local = f[1];
    if (f[3] !== LISTEN || local === undefined || f[9] === undefined) continue;
    const hexPort = local.slice(local.lastIndexOf(':') + 1);
    if (parseInt(hexPort, 16) === port && f[9] !== '0') inodes.push(f[9]);
  }
  return inodes;
}

function fdLinks(pid: number): string[] {
  try {
    const dir = `/proc/${pid}/fd`;
    return readdirSync(dir).map((fd) => {
      try {
        return readlinkSync(`${dir}/${fd}`);
      } catch {
        return '';
      }
    });
  } catch {
    return [];
  }
}

/** Who listens on a TCP port now. Reads every process's descriptors: call it rarely (on diagnosis). */
export function portListeners(port: number): PortListeners {
  const inodes = new Set([...listeningInodes('/proc/net/tcp', port), ...listeningInodes('/proc/net/tcp6', port)]);
  if (inodes.size === 0) return { port, held: false, holders: [] };
  const links = new Set([...inodes].map((i) => `socket:[${i}]`));
  const holders: PortHolder[] = [];
  for (const pid of listPids()) {
    if (!fdLinks(pid).some((l) => links.has(l))) continue;
    const argv = readCmdline(pid);
    holders.push({ pid, command: (argv?.join(' ') ?? '?').slice(0, MAX_COMMAND) });
  }
  return { port, held: true, holders };
}
