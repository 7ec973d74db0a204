// Service log files: read the tail from the end (the file can be large), and rotate by
// copy-and-truncate because the running child holds the file open and cannot be told to reopen it.
import { closeSync, copyFileSync, existsSync, openSync, readSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs';

const BLOCK = 64 * 1024;
/** A tail is a few lines; a file with megabytes without a newline is cut rather than read whole. */
const MAX_TAIL_BYTES = 1024 * 1024;

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

/**
 * Rotate when the file passed maxBytes: shift .1 → .2 … (dropping the oldest past `keep`), copy the
 * live file to .1 and truncate it. The child writes with O_APPEND, so after the truncate its next
 * write lands at the new end instead of leaving a hole. Lines written between the copy and the
 * truncate are lost: the price of not having to signal the child. Returns whether it rotated.
 */
export function rotateFile(path: string, maxBytes: number, keep: number): boolean {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    return false;
  }
  if (size <= maxBytes) return false;
  if (keep > 0) {
    rmSync(`${path}.${keep}`, { force: true });
    for (let i = keep - 1; i >= 1; i--) {
      if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
    }
    copyFileSync(path, `${path}.1`);
  }
  truncateSync(path, 0);
  return true;
}
