// The shape of warden.yaml as zod 4 schemas. It describes the file as written (durations and sizes
// stay strings, paths stay relative); compile.ts turns the parsed result into ResolvedConfig.
// The same schema is published to editors as JSON Schema (jsonschema.ts), so descriptions here are
// what people see on hover and in "missing required key" errors.
import { constants } from 'node:os';
import { z } from 'zod';
import { ACTION_TYPES, CAUSES, type Mode } from '../domain/types.js';
import { BYTES_PATTERN, DURATION_PATTERN, MAX_DURATION, MAX_DURATION_MS, parseDuration } from '../lib/duration.js';

export const MODES = ['observe', 'recommend', 'execute'] as const satisfies readonly Mode[];

/** How a value from the file is quoted in messages: strings in quotes, collections by their kind. */
export function show(v: unknown): string {
  if (v === null) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

// `-` last in the class so the pattern is also valid under the `u` flag JSON Schema validators use.
const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const AGENT_NAME = /^[a-z0-9][a-z0-9_.-]*$/;

function name(what: string, re = NAME, lower = false) {
  const letters = lower ? 'lower-case letters' : 'letters';
  return z.string().regex(re, {
    error: (iss) =>
      `expected ${/^[aeiou]/.test(what) ? 'an' : 'a'} ${what} name of ${letters}, digits, '-', '_' or '.', starting with a letter or digit; got ${show(iss.input)}`,
  });
}

/** A string that parses with parseDuration; a bare number is the mistake people make most. */
function duration(opts: { positive: boolean }) {
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
const bytes = z.union([z.int(sizeError).min(0, sizeError), z.string(sizeError).regex(BYTES_PATTERN, sizeError)], sizeError);

/** A positive whole number (consecutive counts, limits). */
const count = z.int().min(1);

/** An argv list: YAML flow lists keep it short, and no shell ever parses it. */
const argvItem = z.string({
  error: (iss) =>
    typeof iss.input === 'number' || typeof iss.input === 'boolean'
      ? `expected a string, got ${String(iss.input)}; quote it: "${String(iss.input)}"`
      : undefined,
});
const argv = z
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
const path = z.string().min(1, { error: 'expected a path; got an empty string' });

const env = z
  .record(
    z.string().regex(/^[^=\0]+$/, { error: (iss) => `invalid environment variable name ${show(iss.input)}: it must not be empty or contain "="` }),
    z.union([z.string(), z.number(), z.boolean()], {
      error: (iss) => `expected a string (numbers and booleans are converted); got ${show(iss.input)}`,
    }),
  )
  .meta({ description: 'Environment variables added to the inherited environment. Numbers and booleans become strings.' });

const signal = z
  .string()
  .refine((s) => Object.hasOwn(constants.signals, s), {
    error: (iss) => {
      const guess = typeof iss.input === 'string' ? `SIG${iss.input.toUpperCase()}` : '';
      const hint = Object.hasOwn(constants.signals, guess) ? ` (did you mean ${guess}?)` : '';
      return `expected a signal name such as SIGTERM, SIGINT or SIGQUIT; got ${show(iss.input)}${hint}`;
    },
  })
  .meta({ pattern: '^SIG[A-Z0-9]+$' });

const TCP_ADDRESS = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):([0-9]{1,5})$/;
const tcpAddress = z
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
const bodyMatch = z
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

const httpProbe = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: (iss) => `expected an http:// or https:// URL; got ${show(iss.input)}` }),
  expectStatus: z.int().min(100).max(599).default(200),
  bodyMatch: bodyMatch.optional(),
});

const tcpProbe = z.strictObject({ address: tcpAddress });

const execProbe = z.strictObject({
  argv: argv.meta({ description: 'Command to run; exit code 0 is healthy. An argv list, e.g. [redis-cli, ping].' }),
  cwd: path.optional().meta({ description: "Working directory; defaults to the service's cwd." }),
});

export const PROBE_TYPES = ['http', 'tcp', 'exec'] as const;

/** A check has exactly one probe; load.ts enforces that (so it can point at the check) and the JSON Schema says it with oneOf. */
export const checkSchema = z.strictObject({
  name: name('check').optional().meta({ description: 'Check id, unique within the service; defaults to <type>#<index>.' }),
  http: httpProbe.optional(),
  tcp: tcpProbe.optional(),
  exec: execProbe.optional(),
  interval: duration({ positive: true }).default('1s'),
  timeout: duration({ positive: true }).default('500ms').meta({ description: 'Give up on one probe after this long; must not exceed interval.' }),
  failures: count.default(2).meta({ description: 'Consecutive failures before the check counts as unhealthy.' }),
  successes: count.default(1).meta({ description: 'Consecutive successes before an unhealthy check counts as healthy again.' }),
});

const runbookSchema = z.strictObject({
  name: name('runbook'),
  run: argv.meta({ description: 'Command to run, as an argv list, e.g. [sh, ./clean.sh].' }),
  timeout: duration({ positive: true }).default('60s'),
  cwd: path.optional().meta({ description: "Working directory; defaults to the service's cwd." }),
  env: env.optional().meta({ description: "Added to the service's env." }),
  for: z.array(z.enum(CAUSES)).default([]).meta({ description: 'Causes this runbook is the recommended repair for.' }),
});

const kind = z.enum(['process', 'systemd'], { error: (iss) => `expected kind process or systemd; got ${show(iss.input)}` });
const UNIT = /^[a-zA-Z0-9:_.@\\-]+\.(service|timer|socket|target|mount|path)$/;

export const serviceSchema = z.strictObject({
  name: name('service').meta({ description: 'Unique service name.' }),
  host: name('host').default('local').meta({ description: 'Name of a host under hosts.' }),
  kind: kind.default('process').meta({ description: 'process: Warden starts and stops it itself; systemd: a unit driven through systemctl.' }),
  start: argv.optional().meta({ description: 'kind process: the command that runs the service, an argv list, never a shell string, e.g. [node, api.js].' }),
  unit: z.string().regex(UNIT, { error: (iss) => `expected a systemd unit name such as nginx.service or backup.timer; got ${show(iss.input)}` }).optional()
    .meta({ description: 'kind systemd: the unit, e.g. nginx.service or backup.timer.' }),
  cwd: path.optional().meta({ description: "Working directory, relative to the config file's directory (the default)." }),
  env: env.default({}),
  stopSignal: signal.default('SIGTERM'),
  stopGrace: duration({ positive: false }).default('5s').meta({ description: 'Wait this long after stopSignal, then SIGKILL.' }),
  dependsOn: z.array(name('service')).default([]).meta({ description: 'Services this one needs; their failure explains its symptoms.' }),
  log: z
    .strictObject({
      maxSize: bytes.default('1MiB').meta({ description: 'Rotate the log when it passes this size.' }),
      keep: z.int().min(0).default(3).meta({ description: 'Rotated log files to keep.' }),
    })
    .prefault({}),
  checks: z.array(checkSchema).default([]),
  runbooks: z.array(runbookSchema).default([]),
});

const transport = z.literal('local', { error: (iss) => `expected transport local (the only transport so far); got ${show(iss.input)}` });

const hostSchema = z.strictObject({
  name: name('host'),
  transport: transport.default('local'),
});

const glob = z.string().min(1).meta({ description: 'Glob: * matches any run of characters, ? one character.' });

const actionType = z.enum(ACTION_TYPES);

const ruleSchema = z.strictObject({
  match: z.strictObject({ service: glob.default('*'), host: glob.default('*') }).prefault({}),
  allow: z.array(actionType).meta({ description: 'Actions this rule allows on the matched services.' }),
  approval: z.enum(['none', 'required']).default('none').meta({ description: 'required: a person approves each action first.' }),
});

const limitSchema = z.strictObject({
  action: z.enum([...ACTION_TYPES, '*']),
  per: z.literal('service', { error: (iss) => `expected per: service (the only scope so far); got ${show(iss.input)}` }).default('service'),
  max: count,
  window: duration({ positive: true }),
});

// Defaults are output values: zod returns a default as-is, so it must already be complete.
const DEFAULT_RULES: z.output<typeof ruleSchema>[] = [
  { match: { service: '*', host: '*' }, allow: ['start', 'restart'], approval: 'none' },
];
const DEFAULT_LIMITS: z.output<typeof limitSchema>[] = [{ action: '*', per: 'service', max: 3, window: '10m' }];

const notifySchema = z.strictObject({
  name: name('channel'),
  webhook: z.strictObject({
    url: z.url({ protocol: /^https?$/, error: (iss) => `expected an http(s) URL; got ${show(iss.input)}` }),
    headers: z.record(z.string(), z.string()).default({}),
  }),
  events: z.array(z.string().min(1)).default(['*']).meta({ description: 'Event kinds to send (agent.online, ticket.opened, ticket.escalated, ticket.resolved, ...); "*" for all.' }),
  timeout: duration({ positive: true }).default('5s'),
  retries: z.int().min(0).default(3).meta({ description: 'Retries with exponential backoff after a failed delivery.' }),
});

const agentSchema = z.strictObject({
  name: name('agent', AGENT_NAME, true).meta({ description: 'Identity of this agent in the audit log and in policy.' }),
  mode: z.enum(MODES).default('recommend').meta({ description: 'observe: watch only; recommend: propose actions; execute: act under policy.' }),
  dataDir: path.default('.warden').meta({ description: "Store, audit chain and reboot log; relative to the config file's directory." }),
  interval: duration({ positive: true }).default('1s').meta({ description: 'A full reconcile pass runs at least this often.' }),
  verify: z
    .strictObject({
      stable: duration({ positive: false }).default('500ms').meta({ description: 'A repaired service must stay healthy this long.' }),
      deadline: duration({ positive: true }).default('30s').meta({ description: 'Escalate if a repair is not verified by then.' }),
    })
    .prefault({}),
  crashLoop: z
    .strictObject({
      exits: count.default(3),
      window: duration({ positive: true }).default('60s'),
    })
    .prefault({})
    .meta({ description: 'This many exits within window make a crash loop.' }),
  api: z
    .strictObject({
      listen: tcpAddress.meta({ description: 'host:port of the HTTP API; keep it on loopback unless a proxy guards it, e.g. 127.0.0.1:7070.' }),
      tokenFile: path.optional().meta({ description: 'File holding the bearer token; without it, the WARDEN_API_TOKEN environment variable.' }),
    })
    .optional()
    .meta({ description: 'HTTP API: /healthz, /metrics, /api/status, /api/tickets, /api/services/NAME/diagnostics.' }),
  reopenWindow: duration({ positive: false }).default('10m').meta({ description: 'A problem that returns within this window reopens its ticket.' }),
  flapThreshold: count.default(3).meta({ description: 'Occurrences within reopenWindow that mark a ticket as flapping.' }),
});

export const configSchema = z
  .strictObject({
    version: z.literal(1, { error: (iss) => (iss.input === undefined ? undefined : `expected version 1 (the only version so far); got ${show(iss.input)}`) }),
    agent: agentSchema.meta({ description: 'Who this agent is and how it runs, e.g. { name: otto }.' }),
    hosts: z
      .array(hostSchema, { error: (iss) => (iss.input === undefined ? undefined : `expected a list of hosts, each starting with "- name: ..."; got ${show(iss.input)}`) })
      .default([{ name: 'local', transport: 'local' }])
      .meta({ description: 'Machines services run on.' }),
    services: z
      .array(serviceSchema, { error: (iss) => (iss.input === undefined ? undefined : `expected a list of services, each starting with "- name: ..."; got ${show(iss.input)}`) })
      .default([])
      .meta({ description: 'What should be running, how to check it, how to repair it.' }),
    notify: z
      .array(notifySchema)
      .default([])
      .meta({ description: 'Out-of-band notification channels (a JSON webhook for now).' }),
    policy: z
      .strictObject({
        rules: z.array(ruleSchema).default(DEFAULT_RULES).meta({ description: 'A service may take an action if a matching rule allows it.' }),
        limits: z.array(limitSchema).default(DEFAULT_LIMITS).meta({ description: 'Rate limits on automatic actions, per service.' }),
      })
      .prefault({})
      .meta({ description: 'Which actions Warden may take on which services, and how often.' }),
  })
  .meta({ title: 'warden.yaml', description: 'Configuration of a Warden agent: what should run, how to check it, what it may do.' });

export type ConfigInput = z.input<typeof configSchema>;
export type ConfigOutput = z.output<typeof configSchema>;
