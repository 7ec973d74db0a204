// File probe: a file's existence, age, size, owner, mode, and what it says (a regex over its text,
// or one field of it as JSON). Healthy when every condition given holds; the message names each
// one that failed with what was observed, so a file another observer writes can feed Warden.
import type { Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import type { ProbeResult } from '../../domain/types.js';
import { formatDuration } from '../../lib/duration.js';
import { parseRegex } from '../../lib/regex.js';
import { bounded, errorMessage, errorResult, fail, ok } from '../result.js';
import { parseJsonPath, pick } from './jsonpath.js';
import { ownerText, uidOf } from './users.js';

export interface JsonCondition {
  /** The field, as `a.b[0].c` (see jsonpath.ts). */
  path: string;
  equals?: unknown;
  matches?: string;
  min?: number;
  max?: number;
}

export type FileProbeSpec = {
  type: 'file';
  /** Absolute. */
  path: string;
  /** false: healthy while the file is absent (no other condition then). */
  exists: boolean;
  maxAgeMs?: number;
  minSize?: number;
  maxSize?: number;
  /** A user name or a uid. */
  owner?: string | number;
  /** Permission bits (0o7777 at most), compared exactly. */
  mode?: number;
  /** A regular expression the text must match (lib/regex.ts syntax). */
  contains?: string;
  json?: JsonCondition;
};

/**
 * Only this much of a file is read for `contains` and `json`: a status file is small, and a log
 * that grew without bound must not take Warden's memory with it.
 */
export const MAX_READ_BYTES = 1024 * 1024;

/** The text at the start of a file, and whether the file went on past it. */
interface Head {
  text: string;
  size: number;
  cut: boolean;
}

async function readHead(path: string): Promise<Head> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    const buf = Buffer.alloc(Math.min(size, MAX_READ_BYTES) + 1);
    let got = 0;
    // A file can grow between stat and read; reading one byte past the bound tells that too.
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const cut = got > MAX_READ_BYTES;
    return { text: buf.subarray(0, Math.min(got, MAX_READ_BYTES)).toString('utf8'), size: Math.max(size, got), cut };
  } finally {
    await fh.close();
  }
}

const MiB = `${MAX_READ_BYTES / 1024 / 1024} MiB`;

export function octal(mode: number): string {
  return `0${(mode & 0o7777).toString(8).padStart(3, '0')}`;
}

/** A JSON value in a message: strings quoted, long values cut. */
function shown(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** What one condition found wrong, as a clause for the message; null when it holds. */
type Verdict = string | null;

function metadataVerdicts(spec: FileProbeSpec, st: Stats, nowMs: number): Verdict[] {
  const out: Verdict[] = [];
  if (spec.maxAgeMs !== undefined) {
    // mtime is a wall-clock stamp, so age is too; a stamp in the future counts as brand new.
    const age = Math.max(0, nowMs - st.mtimeMs);
    out.push(age > spec.maxAgeMs ? `last modified ${formatDuration(age)} ago (maxAge ${formatDuration(spec.maxAgeMs)})` : null);
  }
  if (spec.minSize !== undefined) out.push(st.size < spec.minSize ? `${st.size} bytes (minSize ${spec.minSize})` : null);
  if (spec.maxSize !== undefined) out.push(st.size > spec.maxSize ? `${st.size} bytes (maxSize ${spec.maxSize})` : null);
  if (spec.owner !== undefined) {
    const want = uidOf(spec.owner);
    if (want === null) out.push(`owner ${JSON.stringify(spec.owner)} is not a user on this host (not in /etc/passwd); owned by ${ownerText(st.uid)}`);
    else out.push(st.uid !== want ? `owned by ${ownerText(st.uid)} (owner ${ownerText(want)})` : null);
  }
  if (spec.mode !== undefined) out.push((st.mode & 0o7777) !== spec.mode ? `mode ${octal(st.mode)} (mode ${octal(spec.mode)})` : null);
  return out;
}

function containsVerdict(pattern: string, head: Head): Verdict {
  if (parseRegex(pattern).test(head.text)) return null;
  const cut = head.cut ? ` in its first ${MiB} (of ${head.size} bytes; the rest is not read)` : '';
  return `no match for ${pattern}${cut}`;
}

/** What the JSON condition found, and the field for the result's value when there was one. */
function jsonVerdicts(cond: JsonCondition, head: Head): { verdicts: Verdict[]; field?: unknown } {
  if (head.cut) return { verdicts: [`is ${head.size} bytes: only the first ${MiB} is read, so it is not parsed as JSON`] };
  let doc: unknown;
  try {
    doc = JSON.parse(head.text);
  } catch (err) {
    return { verdicts: [`is not JSON: ${errorMessage(err)}`] };
  }
  const got = pick(doc, parseJsonPath(cond.path));
  if (!got.found) return { verdicts: [`has no field ${cond.path} (no ${got.missing})`] };
  const v = got.value;
  const at = `${cond.path} is ${shown(v)}`;
  const verdicts: Verdict[] = [];
  if (cond.equals !== undefined) verdicts.push(isDeepStrictEqual(v, cond.equals) ? null : `${at} (equals ${shown(cond.equals)})`);
  if (cond.matches !== undefined) {
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    verdicts.push(parseRegex(cond.matches).test(text) ? null : `${at} (matches ${cond.matches})`);
  }
  if (cond.min !== undefined || cond.max !== undefined) {
    if (typeof v !== 'number') verdicts.push(`${at}, not a number (${cond.min !== undefined ? 'min' : 'max'} needs one)`);
    else {
      if (cond.min !== undefined) verdicts.push(v < cond.min ? `${at} (min ${cond.min})` : null);
      if (cond.max !== undefined) verdicts.push(v > cond.max ? `${at} (max ${cond.max})` : null);
    }
  }
  return { verdicts, field: v };
}

/** The result's value: the JSON field when there is one (text unless a number), else the size. */
function valueOf(spec: FileProbeSpec, st: Stats, field: unknown): ProbeResult['value'] {
  if (spec.json === undefined || field === undefined) return st.size;
  return { [spec.json.path]: typeof field === 'number' ? field : typeof field === 'string' ? field : JSON.stringify(field) };
}

async function observe(spec: FileProbeSpec, start: number, nowMs: number): Promise<ProbeResult> {
  let st: Stats;
  try {
    st = await stat(spec.path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return spec.exists ? fail(`${spec.path} does not exist`, start) : ok(`${spec.path} does not exist, as expected`, start);
    }
    return { ...errorResult(err, start), message: `cannot stat ${spec.path}: ${errorMessage(err)}` };
  }
  if (!spec.exists) return fail(`${spec.path} exists (expected it absent)`, start);

  const verdicts = metadataVerdicts(spec, st, nowMs);
  let field: unknown;
  if (spec.contains !== undefined || spec.json !== undefined) {
    let head: Head;
    try {
      head = await readHead(spec.path);
    } catch (err) {
      return { ...errorResult(err, start), message: `cannot read ${spec.path}: ${errorMessage(err)}`, value: st.size };
    }
    if (spec.contains !== undefined) verdicts.push(containsVerdict(spec.contains, head));
    if (spec.json !== undefined) {
      const j = jsonVerdicts(spec.json, head);
      verdicts.push(...j.verdicts);
      field = j.field;
    }
  }
  const value = valueOf(spec, st, field);
  const failed = verdicts.filter((v): v is string => v !== null);
  if (failed.length > 0) return { ...fail(`${spec.path}: ${failed.join('; ')}`, start), value };
  const what = spec.json !== undefined ? `${spec.json.path} is ${shown(field)}` : `${st.size} bytes`;
  return { ...ok(`${spec.path}: ${what}`, start), value };
}

/**
 * Looks at the file once. `nowMs` is the wall time its age is measured against (an mtime is a
 * wall-clock stamp); a stat or read that hangs is given up on at the timeout.
 */
export function file(spec: FileProbeSpec, timeoutMs: number, nowMs: number = Date.now()): Promise<ProbeResult> {
  const start = performance.now();
  return bounded(observe(spec, start, nowMs), timeoutMs, start);
}
