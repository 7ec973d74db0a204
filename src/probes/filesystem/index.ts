// Probe plugin `filesystem`: space and inodes free on the filesystem that holds a path (Monit's
// `check filesystem`).
import { resolve } from 'node:path';
import { z } from 'zod';
import { BYTES_PATTERN, parseBytes } from '../../lib/duration.js';
import { path, show } from '../../config/fields.js';
import { defineProbe } from '../probe.js';
import { filesystem, type FilesystemProbeSpec, type Minimum } from './filesystem.js';

const PERCENT = /^(\d+(?:\.\d+)?)%$/;

/** "10%", or an amount: bytes (a number or a size such as 2GiB) or, for inodes, a count. */
function minimum(amount: 'bytes' | 'count') {
  const example = amount === 'bytes' ? '"10%" or 2GiB' : '"5%" or 10000';
  const error = (iss: { input: unknown }) => `expected a percentage or ${amount === 'bytes' ? 'a size' : 'a count'}, e.g. ${example}; got ${show(iss.input)}`;
  // The message is on every branch: zod reports whichever came closest.
  const amountSchema = amount === 'bytes' ? z.union([z.int({ error }).min(0, { error }), z.string({ error }).regex(BYTES_PATTERN, { error })], { error }) : z.int({ error }).min(0, { error });
  return z
    .union([z.string({ error }).regex(PERCENT, { error }), amountSchema], { error })
    .superRefine((v, ctx) => {
      const pct = typeof v === 'string' ? PERCENT.exec(v)?.[1] : undefined;
      if (pct !== undefined && Number(pct) > 100) ctx.addIssue({ code: 'custom', message: `a percentage is at most 100%; got ${show(v)}` });
    });
}

function compileMinimum(v: string | number): Minimum {
  const pct = typeof v === 'string' ? PERCENT.exec(v)?.[1] : undefined;
  return pct !== undefined ? { percent: Number(pct) } : { amount: parseBytes(v) };
}

export default defineProbe({
  name: 'filesystem',
  description: 'reads space and inodes free on the filesystem holding a path; healthy while each minimum given is met',
  config: z.strictObject({
    path: path.meta({ description: 'A mount point, or any path on the filesystem; relative to the config file.' }),
    minFree: minimum('bytes').optional().meta({ description: 'Space an unprivileged writer can still use, as df shows it: a percentage ("10%", i.e. 100 - Use%) or a size (2GiB).' }),
    minInodesFree: minimum('count').optional().meta({ description: 'Free inodes: a percentage ("5%") or a count (10000). A filesystem with no inode limit always passes.' }),
  }),
  compile: (c, ctx) => {
    const spec: Omit<FilesystemProbeSpec, 'type'> = { path: resolve(ctx.base, c.path) };
    if (c.minFree !== undefined) spec.minFree = compileMinimum(c.minFree);
    if (c.minInodesFree !== undefined) spec.minInodesFree = compileMinimum(c.minInodesFree);
    return spec;
  },
  prerequisites: [],
  run: filesystem,
  target: (s) => s.path,
});
