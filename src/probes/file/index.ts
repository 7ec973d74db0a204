// Probe plugin `file`: a file's existence, age, size, owner, mode and content (Monit's `check
// file`), so that state another observer writes to a file can feed Warden.
import { resolve } from 'node:path';
import { z } from 'zod';
import { bytes, duration, path, regex, show } from '../../config/fields.js';
import { parseBytes, parseDuration } from '../../lib/duration.js';
import { defineProbe } from '../probe.js';
import { file, MAX_READ_BYTES, type FileProbeSpec } from './file.js';
import { parseJsonPath } from './jsonpath.js';

const jsonPath = z.string().superRefine((s, ctx) => {
  try {
    parseJsonPath(s);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const mode = z
  .string({
    error: (iss) => typeof iss.input === 'number'
      ? `expected the mode as a quoted octal string, e.g. "0640" (YAML reads an unquoted 0640 as the number ${iss.input}); got ${iss.input}`
      : `expected the mode as a quoted octal string, e.g. "0640"; got ${show(iss.input)}`,
  })
  .regex(/^0?[0-7]{3,4}$/, { error: (iss) => `expected an octal mode of 3 or 4 digits, e.g. "0640" or "1777"; got ${show(iss.input)}` })
  .meta({ description: 'Permission bits the file must have exactly, in octal as ls -l shows them, e.g. "0640".' });

const owner = z
  .union([z.int().min(0), z.string().min(1)], { error: (iss) => `expected a user name or a uid, e.g. www-data or 33; got ${show(iss.input)}` })
  .meta({ description: 'The user that must own the file: a name (looked up in /etc/passwd at each probe) or a uid.' });

const mib = `${MAX_READ_BYTES / 1024 / 1024} MiB`;

export default defineProbe({
  name: 'file',
  description: 'looks at a file: exists, age, size, owner, mode, a regex over its text or a JSON field; healthy when every condition given holds',
  config: z
    .strictObject({
      path: path.meta({ description: 'The file; relative to the config file. Symbolic links are followed.' }),
      exists: z.boolean().default(true).meta({ description: 'false: healthy while the file is absent (no other condition may be given then).' }),
      maxAge: duration({ positive: true }).optional().meta({ description: 'Healthy only if modified at most this long ago (its mtime, a wall-clock stamp).' }),
      minSize: bytes.optional().meta({ description: 'Healthy only if at least this large, e.g. 1 or 10KiB.' }),
      maxSize: bytes.optional().meta({ description: 'Healthy only if at most this large, e.g. 100MiB.' }),
      owner: owner.optional(),
      mode: mode.optional(),
      contains: regex.optional().meta({ description: `A regular expression (or /re/flags) the text must match; only the first ${mib} is read.` }),
      json: z
        .strictObject({
          path: jsonPath.meta({ description: 'The field, as in JavaScript: status, members[0].health, ["key.with.dots"].' }),
          equals: z.json().optional().meta({ description: 'Healthy only if the field equals this value (any JSON value, compared deeply).' }),
          matches: regex.optional().meta({ description: 'Healthy only if the field (a string, or the JSON text of any other value) matches this regular expression.' }),
          min: z.number().optional().meta({ description: 'Healthy only if the field is a number at least this.' }),
          max: z.number().optional().meta({ description: 'Healthy only if the field is a number at most this.' }),
        })
        .optional()
        .meta({ description: `Parse the file (at most ${mib}) as JSON and look at one field; with only a path, healthy while the field is there. The field is the check's value.` }),
    })
    .superRefine((c, ctx) => {
      if (!c.exists) {
        const others = (['maxAge', 'minSize', 'maxSize', 'owner', 'mode', 'contains', 'json'] as const).filter((k) => c[k] !== undefined);
        if (others.length > 0) ctx.addIssue({ code: 'custom', path: ['exists'], message: `exists: false says the file must be absent, so ${others.join(', ')} cannot be checked; drop ${others.length === 1 ? 'it' : 'them'} or exists: false` });
      }
      if (c.minSize !== undefined && c.maxSize !== undefined && sizeOr(c.minSize) > sizeOr(c.maxSize)) {
        ctx.addIssue({ code: 'custom', path: ['minSize'], message: `minSize ${show(c.minSize)} is more than maxSize ${show(c.maxSize)}: no file could pass` });
      }
      if (c.json?.min !== undefined && c.json.max !== undefined && c.json.min > c.json.max) {
        ctx.addIssue({ code: 'custom', path: ['json', 'min'], message: `min ${c.json.min} is more than max ${c.json.max}: no value could pass` });
      }
    }),
  compile: (c, ctx) => {
    const spec: Omit<FileProbeSpec, 'type'> = { path: resolve(ctx.base, c.path), exists: c.exists };
    if (c.maxAge !== undefined) spec.maxAgeMs = parseDuration(c.maxAge);
    if (c.minSize !== undefined) spec.minSize = parseBytes(c.minSize);
    if (c.maxSize !== undefined) spec.maxSize = parseBytes(c.maxSize);
    if (c.owner !== undefined) spec.owner = c.owner;
    if (c.mode !== undefined) spec.mode = parseInt(c.mode, 8);
    if (c.contains !== undefined) spec.contains = c.contains;
    if (c.json !== undefined) {
      const { path: field, equals, matches, min, max } = c.json;
      spec.json = { path: field, ...(equals !== undefined ? { equals } : {}), ...(matches !== undefined ? { matches } : {}), ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) };
    }
    return spec;
  },
  prerequisites: [],
  run: (spec: FileProbeSpec, timeoutMs: number) => file(spec, timeoutMs),
  target: (s) => s.path,
});

/** A size for comparing two; a malformed one is the size field's own error, reported beside. */
function sizeOr(v: string | number): number {
  try {
    return parseBytes(v);
  } catch {
    return NaN;
  }
}
