// Turning problems found in a config file into `file:line:col: what is wrong, what was expected`.
// Validation works on plain data (paths like ['services', 0, 'start']); this module maps each path
// back to the YAML node it came from, so every message points at the text the person must change.
import { WardenError } from '../lib/errors.js';
import { isAlias, isMap, isScalar, isSeq, type Alias, type Document, type LineCounter, type Node, type Pair } from 'yaml';
import { z } from 'zod';
import { brief, listNames, show } from './fields.js';

import { didYouMean } from '../lib/suggest.js';

export { didYouMean };

export type PathSeg = string | number;

export interface ConfigIssue {
  file: string;
  /** 1-based; 0 when the problem is the file itself (cannot be read). */
  line: number;
  /** 1-based; 0 when line is 0. */
  col: number;
  message: string;
}

/** A problem found before the text is located: `at: 'key'` points at a map key instead of its value. */
export interface PathIssue {
  path: PathSeg[];
  message: string;
  at?: 'key' | 'value';
}

export function formatIssue(i: ConfigIssue): string {
  return i.line === 0 ? `${i.file}: ${i.message}` : `${i.file}:${i.line}:${i.col}: ${i.message}`;
}

/** Every problem in a config file at once, so one edit-validate round fixes them all. */
export class ConfigError extends WardenError {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[], options?: { cause?: unknown }) {
    super('CONFIG_INVALID', issues.map(formatIssue).join('\n'), { cause: options?.cause });
    this.issues = issues;
  }
}

/** `services[0].checks[1].timeout`; keys that are not identifiers are quoted: `env["A.B"]`. */
export function formatPath(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_$][\w$-]*$/.test(seg) && seg === brief(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(brief(seg))}]`;
  }
  return out;
}

/** Prefixes a message with the path it is about, unless it is about the whole file. */
export function atPath(path: readonly PathSeg[], message: string): string {
  return path.length === 0 ? message : `${formatPath(path)}: ${message}`;
}

/** Maps data paths to positions in the YAML text. */
export class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    /** Each alias's node (config/structure.ts found them once; resolving one by one is quadratic). */
    private readonly targets: ReadonlyMap<Alias, Node>,
  ) {}

  /**
   * The position of the value at `path` (or of its key, with at = 'key'). A path that does not
   * exist (a missing key) resolves to the deepest node that does: the map the key belongs in.
   */
  position(path: readonly PathSeg[], at: 'key' | 'value' = 'value'): { line: number; col: number } {
    let node: unknown = this.doc.contents;
    let pair: Pair | null = null;
    let found = 0;
    for (const seg of path) {
      if (isAlias(node)) node = this.targets.get(node);
      if (isMap(node)) {
        const p = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(seg));
        if (p === undefined) break;
        pair = p;
        node = p.value;
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        pair = null;
        node = node.items[seg];
      } else {
        break;
      }
      found++;
    }
    const complete = found === path.length;
    const keyNode = pair === null ? null : (pair.key as Node | null);
    // An empty value (`key:` and nothing after it) has a zero-width range: its key is easier to see.
    const empty = isScalar(node) && node.value === null && node.range != null && node.range[0] === node.range[1];
    const target = complete && (at === 'key' || empty || node == null) && keyNode?.range ? keyNode : (node as Node | null);
    const offset = target?.range?.[0];
    if (offset == null) return { line: 1, col: 1 };
    return this.lines.linePos(offset);
  }

  /** A located issue. */
  issue(file: string, p: PathIssue): ConfigIssue {
    const { line, col } = this.position(p.path, p.at);
    return { file, line, col, message: p.message };
  }
}

// ------------------------------------------------------------------------------- zod issues

const TYPE_NAMES: Record<string, string> = {
  string: 'a string', number: 'a number', int: 'a whole number', boolean: 'true or false',
  array: 'a list', object: 'a map', record: 'a map', null: 'nothing',
};

/**
 * Default messages for zod issues, in the words of the file (list, map, duration) rather than
 * JavaScript's. Messages set on a schema take precedence over these.
 */
export const zodErrorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      return iss.input === undefined ? 'missing' : `expected ${TYPE_NAMES[iss.expected] ?? iss.expected}, got ${show(iss.input)}`;
    case 'invalid_value':
      return iss.values.length === 1
        ? `expected ${String(iss.values[0])}, got ${show(iss.input)}`
        : `expected one of ${iss.values.map(String).join(' | ')}, got ${show(iss.input)}`;
    case 'too_small':
      if (iss.origin === 'array') return `expected at least ${String(iss.minimum)} item${iss.minimum === 1 ? '' : 's'}, got an empty list`;
      if (iss.origin === 'string') return 'expected a non-empty string';
      return `expected ${iss.inclusive === false ? 'more than' : 'at least'} ${String(iss.minimum)}, got ${show(iss.input)}`;
    case 'too_big':
      if (iss.origin === 'array') return `expected at most ${String(iss.maximum)} items`;
      if (iss.origin === 'string') return `expected at most ${String(iss.maximum)} characters`;
      return `expected ${iss.inclusive === false ? 'less than' : 'at most'} ${String(iss.maximum)}, got ${show(iss.input)}`;
    case 'invalid_format':
      return `expected ${iss.format === 'regex' && iss.pattern ? `a string matching ${iss.pattern}` : `a valid ${iss.format}`}, got ${show(iss.input)}`;
    case 'invalid_union':
      return `got ${show(iss.input)}, which matches none of the allowed forms`;
    default:
      return undefined;
  }
};

function has(obj: unknown, key: PathSeg): boolean {
  if (Array.isArray(obj)) return typeof key === 'number' && key < obj.length;
  return typeof obj === 'object' && obj !== null && Object.hasOwn(obj, key);
}

function at(data: unknown, path: readonly PathSeg[]): unknown {
  let cur = data;
  for (const seg of path) cur = has(cur, seg) ? (cur as Record<PathSeg, unknown>)[seg] : undefined;
  return cur;
}

/** Looks through the wrappers that only make a value optional or give it a default. */
function unwrap(schema: z.ZodType): z.ZodType {
  let cur = schema;
  while (cur instanceof z.ZodDefault || cur instanceof z.ZodPrefault || cur instanceof z.ZodOptional) {
    cur = cur.unwrap() as z.ZodType;
  }
  return cur;
}

/** The schema that validates the value at `path` (with its wrappers, which carry the metadata). */
function schemaAt(schema: z.ZodType, path: readonly PathSeg[]): z.ZodType | null {
  let cur: z.ZodType = schema;
  for (const seg of path) {
    const inner = unwrap(cur);
    let next: z.ZodType | undefined;
    if (inner instanceof z.ZodObject && typeof seg === 'string') next = (inner.shape as Record<string, z.ZodType>)[seg];
    else if (inner instanceof z.ZodArray) next = inner.element as z.ZodType;
    else if (inner instanceof z.ZodRecord) next = inner.valueType as z.ZodType;
    if (next === undefined) return null;
    cur = next;
  }
  return cur;
}

function description(schema: z.ZodType | null): string | undefined {
  // Metadata sits on whichever wrapper .meta() was called on, so look through them all.
  let cur: z.ZodType | null = schema;
  while (cur !== null) {
    const d = z.globalRegistry.get(cur)?.description;
    if (d !== undefined) return d;
    cur = cur instanceof z.ZodDefault || cur instanceof z.ZodPrefault || cur instanceof z.ZodOptional ? (cur.unwrap() as z.ZodType) : null;
  }
  return undefined;
}

/** The same issue in the file's terms: unknown keys one by one at the key, missing keys at their map. */
export function fromZodIssue(issue: z.core.$ZodIssue, schema: z.ZodType, data: unknown): PathIssue[] {
  const path = issue.path.map((s) => (typeof s === 'symbol' ? String(s) : s));
  if (issue.code === 'unrecognized_keys') {
    const parentSchema = schemaAt(schema, path);
    const parent = parentSchema === null ? null : unwrap(parentSchema);
    const known = parent instanceof z.ZodObject ? Object.keys(parent.shape as object) : [];
    return issue.keys.map((key) => {
      const guess = didYouMean(key, known);
      const hint = guess === null ? '' : ` (did you mean "${guess}"?)`;
      const expected = known.length > 0 ? `; expected one of ${listNames(known, known.length)}` : '';
      return { path: [...path, key], at: 'key' as const, message: atPath([...path, key], `unknown key${hint}${expected}`) };
    });
  }
  if (issue.code === 'invalid_key') {
    const inner = issue.issues.map((i) => i.message).join('; ');
    return [{ path, at: 'key', message: atPath(path, inner) }];
  }
  const parentPath = path.slice(0, -1);
  const key = path[path.length - 1];
  // Whatever the schema expected there, an absent key is best reported as absent.
  if (key !== undefined && !has(at(data, parentPath), key)) {
    const what = description(schemaAt(schema, path));
    const message = `missing required key "${String(key)}"${what === undefined ? '' : ` (${lowerFirst(what.replace(/\.$/, ''))})`}`;
    return [{ path: parentPath, message: atPath(parentPath, message) }];
  }
  return [{ path, message: atPath(path, issue.message) }];
}

function lowerFirst(s: string): string {
  return s.length > 0 && /^[A-Z][a-z]/.test(s) ? s[0]?.toLowerCase() + s.slice(1) : s;
}
