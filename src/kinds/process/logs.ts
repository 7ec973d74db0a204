// Reading service log files: the tail from the end (the file can be large), and following new lines
// across rotations. The log collector (logd.ts) writes them and rotates by renaming.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import { join } from 'node:path';

const BLOCK = 64 * 1024;
/** A tail is a few lines; a file with megabytes without a newline is cut rather than read whole. */
const MAX_TAIL_BYTES = 1024 * 1024;

/** Where a process service's stdout and stderr go. */
export function logFileOf(dataDir: string, service: string): string {
  return join(dataDir, 'logs', `${service}.log`);
}

/** The last `n` lines of one file, read backwards in blocks; [] when it does not exist. */
export function readLastLines(path: string, n: number): string[] {
  if (n <= 0) return [];
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return [];
  }
  try {
    let pos = statSync(path).size;
    const blocks: Buffer[] = [];
    let newlines = 0;
    let read = 0;
    // n lines need n+1 newlines before them unless the read reaches the start of the file
    // (the final newline of the file ends the last line and is counted too).
    while (pos > 0 && newlines <= n && read < MAX_TAIL_BYTES) {
      const len = Math.min(BLOCK, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      const got = readSync(fd, buf, 0, len, pos);
      const block = buf.subarray(0, got);
      blocks.unshift(block);
      read += got;
      for (const byte of block) if (byte === 0x0a) newlines++;
    }
    const lines = Buffer.concat(blocks).toString('utf8').split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    // The first piece is a partial line when the read stopped mid-file; drop it if there is more.
    if (pos > 0 && lines.length > n) lines.shift();
    return lines.slice(-n);
  } finally {
    closeSync(fd);
  }
}

/** The last `n` lines across the live file and, when it is short, the rotated ones before it. */
export function tailLines(path: string, n: number, keep: number): string[] {
  let lines = readLastLines(path, n);
  for (let i = 1; lines.length < n && i <= Math.max(keep, 1); i++) {
    const older = `${path}.${i}`;
    if (!existsSync(older)) break;
    lines = [...readLastLines(older, n - lines.length), ...lines];
  }
  return lines;
}

function fileId(path: string): { size: number; ino: number } | null {
  try {
    const st = statSync(path);
    return { size: st.size, ino: st.ino };
  } catch {
    return null;
  }
}

/** Bytes [from, to) of a file ('' when it is gone). */
function readRange(path: string, from: number, to: number): string {
  if (to <= from) return '';
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const buf = Buffer.alloc(to - from);
    const got = readSync(fd, buf, 0, buf.length, from);
    return buf.subarray(0, got).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Each line appended to a log file from its current end on, until the signal fires (`tail -F`).
 * Follows the collector's rotation by renaming: when the file at `path` is a new one, the rest of
 * the old one (now `.1`) is read before the new file from its start.
 */
export async function* followFile(path: string, o: { signal: AbortSignal; pollMs?: number; from?: number }): AsyncGenerator<string> {
  const first = fileId(path);
  let offset = o.from ?? first?.size ?? 0;
  let ino = first?.ino ?? null;
  let partial = '';
  while (!o.signal.aborted) {
    const now = fileId(path);
    let text = '';
    if (now !== null && (now.ino !== ino || now.size < offset)) {
      // Rotated (renamed to .1) since the last read. A file truncated in place also starts over.
      if (ino !== null && now.ino !== ino) text = readRange(`${path}.1`, offset, fileId(`${path}.1`)?.size ?? 0);
      text += readRange(path, 0, now.size);
      offset = now.size;
      ino = now.ino;
    } else if (now !== null && now.size > offset) {
      text = readRange(path, offset, now.size);
      offset = now.size;
    }
    const lines = (partial + text).split('\n');
    // The last piece has no newline yet: the writer may be in the middle of it.
    partial = lines.pop() ?? '';
    for (const line of lines) yield line;
    try {
      await sleep(o.pollMs ?? 200, undefined, { signal: o.signal });
    } catch {
      return; // aborted
    }
  }
}
