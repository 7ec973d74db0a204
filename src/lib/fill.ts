// Filling a filesystem on purpose (the disk-full fault, and tests of what Warden does then).
import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * Writes to `file` until its filesystem refuses (ENOSPC): large chunks first, then smaller ones
 * down to a byte, so that not even a page is left.
 */
export function fillUntilFull(file: string): void {
  const fd = openSync(file, 'w');
  try {
    for (const size of [1 << 20, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 7);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
}
