// Field types shared by the config schema and the plugins' own config fragments (probes, kinds,
// channels): names, durations, sizes, argv lists, paths. No plugin registry is imported here, so
// plugins can use these without a cycle through the schema that is assembled from them.
import { constants } from 'node:os';
import { z } from 'zod';
import { BYTES_PATTERN, DURATION_PATTERN, MAX_DURATION, MAX_DURATION_MS, parseDuration } from '../lib/duration.js';
import { regexProblem } from '../lib/regex.js';
import { suggestion } from '../lib/suggest.js';

/** How a value from the file is quoted in messages: strings in quotes, collections by their kind. */
export function show(v: unknown): string {
  if (v === null) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return v.length > BRIEF ? `${JSON.stringify(brief(v))} (${v.length} characters)` : JSON.stringify(v);
  return String(v);
}

/** Quoted values are cut here: a 20,000-character name is recognised by its start and position. */
const BRIEF = 40;

/** A name as messages print it: whole when short, its first characters and "…" when long. */
export function brief(s: string): string {
  return s.length > BRIEF ? `${s.slice(0, BRIEF)}…` : s;
}

/** The names a message lists ("services are: ..."): the first few, so a message stays a line. */
export function listNames(names: readonly string[], max = 20): string {
  const shown = names.slice(0, max).map(brief).join(', ');
  return names.length > max ? `${shown}, … (${names.length} in all)` : shown;
}

/** Longer names are an error: names become file names, unit names and metric labels. */
export const MAX_NAME = 128;

// `-` last in the class so the pattern is also valid under the `u` flag JSON Schema validators use.
export const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
export const AGENT_NAME = /^[a-z0-9][a-z0-9_.-]*$/;

export function name(what: string, re = NAME, lower = false) {
  const letters = lower ? 'lower-case letters' : 'letters';
  const article = /^[aeiou]/.test(what) ? 'an' : 'a';
  return z
    .string()
    .max(MAX_NAME, { error: (iss) => `expected ${article} ${what} name of at most ${MAX_NAME} characters; got ${show(iss.input)}`, abort: true })
    .regex(re, {
      error: (iss) => `expected ${article} ${what} name of ${letters}, digits, '-', '_' or '.', starting with a letter or digit; got ${show(iss.input)}`,
    });
}

/** A string that parses with parseDuration; a bare number is the mistake people make most. */
export function duration(opts: { positive: boolean }) {
  return z
    .string({
      error: (iss) =>
        iss.input === undefined
          ? undefined
          : typeof iss.input === 'number'
            ? `expected a duration with a unit, e.g. 500ms; got the bare number ${iss.input}`
            : `expected a duration with a unit, e.g. 500ms; got ${show(iss.input)}`,
    })
    .superRefine((s, ctx) => {
      let ms: number;
      try {
        ms = parseDuration(s);
      } catch {
        ctx.addIssue({ code: 'custom', message: `expected a duration with a unit (ms, s, m, h, d), e.g. 500ms or 1m30s; got ${show(s)}` });
        return;
      }
      if (ms > MAX_DURATION_MS) ctx.addIssue({ code: 'custom', message: `must be at most ${MAX_DURATION}; got ${show(s)}` });
      if (opts.positive && ms <= 0) ctx.addIssue({ code: 'custom', message: `must be longer than 0ms; got ${show(s)}` });
    })
    .meta({ pattern: DURATION_PATTERN.source });
}

// One message for every way a size can be wrong: zod reports whichever branch came closest.
const sizeError = { error: (iss: { input: unknown }) => `expected a size such as 1MiB, 512KB or a whole number of bytes; got ${show(iss.input)}` };
export const bytes = z.union([z.int(sizeError).min(0, sizeError), z.string(sizeError).regex(BYTES_PATTERN, sizeError)], sizeError);

/** A positive whole number (consecutive counts, limits). */
export const count = z.int().min(1);

/**
 * A string the kernel can take: exec and environ end each string at a NUL byte, so Node refuses one
 * at spawn time; the file is the place to say so, with a position.
 */
const noNul = (what: string) => (s: string, ctx: z.core.$RefinementCtx<string>): void => {
  if (s.includes('\0')) ctx.addIssue({ code: 'custom', message: `expected ${what}; got ${show(s)}` });
};

/** An argv list: YAML flow lists keep it short, and no shell ever parses it. */
const argvItem = z
  .string({
    error: (iss) =>
      typeof iss.input === 'number' || typeof iss.input === 'boolean'
        ? `expected a string, got ${String(iss.input)}; quote it: "${String(iss.input)}"`
        : undefined,
  })
  .superRefine(noNul('no NUL byte (\\0) in an argv item'));
export const argv = z
  .array(argvItem, {
    error: (iss) => {
      if (iss.input === undefined) return undefined;
      if (typeof iss.input === 'string') {
        // A plain command line gets its list form as a hint; anything shell-like gets the rule.
        const hint = /^[\w./:=@%+,-]+(?: [\w./:=@%+,-]+)*$/.test(iss.input) ? `[${iss.input.split(' ').join(', ')}]` : '[node, api.js]';
        return `expected an argv list, e.g. ${hint}, not a shell string; got ${show(iss.input)}`;
      }
      return `expected an argv list, e.g. [node, api.js]; got ${show(iss.input)}`;
    },
  })
  .min(1, { error: 'expected an argv list with at least the program, e.g. [node, api.js]; got an empty list' });

/** Relative paths are resolved against the directory of the config file. */
export const path = z.string().min(1, { error: 'expected a path; got an empty string' }).superRefine(noNul('a path without NUL bytes (\\0)'));

export const env = z
  .record(
    z.string().regex(/^[^=\0]+$/, { error: (iss) => `invalid environment variable name ${show(iss.input)}: it must not be empty or contain "=" or a NUL byte (\\0)` }),
    z.union([z.string().superRefine(noNul('no NUL byte (\\0) in an environment value')), z.number(), z.boolean()], {
      error: (iss) => `expected a string (numbers and booleans are converted); got ${show(iss.input)}`,
    }),
  )
  .meta({ description: 'Environment variables added to the inherited environment. Numbers and booleans become strings.' });

export const signal = z
  .string()
  .refine((s) => Object.hasOwn(constants.signals, s), {
    error: (iss) => {
      const guess = typeof iss.input === 'string' ? `SIG${iss.input.toUpperCase()}` : '';
      const hint = Object.hasOwn(constants.signals, guess) ? ` (did you mean ${guess}?)` : '';
      return `expected a signal name such as SIGTERM, SIGINT or SIGQUIT; got ${show(iss.input)}${hint}`;
    },
  })
  .meta({ pattern: '^SIG[A-Z0-9]+$' });

export const TCP_ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):([0-9]{1,5})$/;
export const tcpAddress = z
  .string()
  .superRefine((s, ctx) => {
    const port = Number(TCP_ADDRESS.exec(s)?.[2] ?? NaN);
    if (!(port >= 1 && port <= 65535)) {
      ctx.addIssue({ code: 'custom', message: `expected host:port with a port from 1 to 65535, e.g. 127.0.0.1:6390 or [::1]:6390; got ${show(s)}` });
    }
  })
  .meta({ pattern: TCP_ADDRESS.source, description: 'host:port to connect to, e.g. 127.0.0.1:6390' });

/** `/regex/flags` is a regular expression; anything else is a substring (as probes/http reads it). */
const BODY_REGEX = /^\/(.+)\/([dgimsuvy]*)$/s;
export const bodyMatch = z
  .string()
  .superRefine((s, ctx) => {
    const m = BODY_REGEX.exec(s);
    if (m === null) return;
    try {
      new RegExp(m[1] ?? '', m[2]);
    } catch (err) {
      // V8 repeats the pattern in its message ("Invalid regular expression: /(/: Unterminated group").
      const why = (err as Error).message.replace(/^Invalid regular expression: .*?: (?=[^:]+$)/, '');
      ctx.addIssue({ code: 'custom', message: `invalid regular expression ${s}: ${why}` });
    }
  })
  .meta({ description: 'Substring the response body must contain, or /regex/ with optional flags.' });

/** A regular expression: the bare pattern, or `/pattern/flags` (as lib/regex.ts reads it). */
export const regex = z
  .string()
  .min(1, { error: 'expected a regular expression; got an empty string' })
  .superRefine((s, ctx) => {
    const why = regexProblem(s);
    if (why !== null) ctx.addIssue({ code: 'custom', message: `invalid regular expression ${show(s)}: ${why}` });
  });

/**
 * One of a registry's names; anything else is an error that lists them and guesses the typo.
 * With `what` ("kind") the message reads "expected kind process or systemd; got ...".
 */
export function oneOf<const T extends readonly [string, ...string[]]>(names: T, what?: string) {
  return z.enum(names, {
    error: (iss) => {
      const got = show(iss.input);
      const hint = typeof iss.input === 'string' ? suggestion(iss.input, names) : '';
      if (what !== undefined) return `expected ${what} ${names.slice(0, -1).join(', ')}${names.length > 1 ? ' or ' : ''}${names[names.length - 1]}; got ${got}${hint}`;
      return names.length === 1 ? `expected ${names[0]}, got ${got}${hint}` : `expected one of ${names.join(' | ')}, got ${got}${hint}`;
    },
  });
}
