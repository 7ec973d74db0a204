// The shape of warden.yaml as zod 4 schemas. It describes the file as written (durations and sizes
// stay strings, paths stay relative); compile.ts turns the parsed result into ResolvedConfig.
// The same schema is published to editors as JSON Schema (jsonschema.ts), so descriptions here are
// what people see on hover and in "missing required key" errors.
import { Cron } from 'croner';
import { z } from 'zod';
import { parseBytes } from '../lib/duration.js';
import { actions } from '../actions/index.js';
import { AUDIT_KINDS, NOTIFY_KINDS } from '../domain/audit.js';
import { CAUSES, TIERS, type Mode } from '../domain/types.js';
import { DEFAULT_ALERTS } from '../domain/alerts.js';
import { formatDuration } from '../lib/duration.js';
import { suggestion } from '../lib/suggest.js';
import { kinds } from '../kinds/index.js';
import { channels } from '../notify/channels.js';
import { namesOf } from '../plugins/plugin.js';
import { probes } from '../probes/index.js';
import { DEFAULT_URL as DEFAULT_PROMETHEUS } from '../probes/promql/index.js';
import { subjects } from '../subjects/index.js';
import { hostSchema } from './hosts.js';
import { diagnosisSchema } from './diagnosis.js';
import { revertSchema, revertsSchema, workflowFields } from './workflow.js';
import { AGENT_NAME, MAX_NAME, argv, bytes, count, duration, env, name, oneOf, path, show, signal, tcpAddress } from './fields.js';

export { show } from './fields.js';

export const MODES = ['observe', 'recommend', 'execute'] as const satisfies readonly Mode[];

/** Each plugin's config schema as an optional key: the one a check (or channel) has names the plugin. */
function pluginKeys(table: Record<string, { config: z.ZodType }>): Record<string, z.ZodOptional<z.ZodType>> {
  return Object.fromEntries(Object.entries(table).map(([name, p]) => [name, p.config.optional()]));
}

/** A check has exactly one probe; load.ts enforces that (so it can point at the check) and the JSON Schema says it with oneOf. */
export const checkSchema = z.strictObject({
  name: name('check').optional().meta({ description: 'Check id, unique within the service; defaults to <type>#<index>.' }),
  ...pluginKeys(probes),
  interval: duration({ positive: true }).default('1s'),
  timeout: duration({ positive: true }).default('500ms').meta({ description: 'Give up on one probe after this long; must not exceed interval.' }),
  failures: count.default(2).meta({ description: 'Consecutive failures before the check counts as unhealthy.' }),
  successes: count.default(1).meta({ description: 'Consecutive successes before an unhealthy check counts as healthy again.' }),
  slowerThan: duration({ positive: true }).optional().meta({ description: 'An answer later than this counts as a failure (the service is degraded, not down); must be below timeout.' }),
});


/** A size at least `min` bytes; a malformed one is left to the size's own error, reported beside. */
function atLeast(v: string | number, min: number): boolean {
  try {
    return parseBytes(v) >= min;
  } catch {
    return true;
  }
}

const runbookSchema = z.strictObject({
  name: name('runbook'),
  run: argv.optional().meta({ description: 'Command to run, as an argv list, e.g. [sh, ./clean.sh] (or steps, a workflow).' }),
  ...workflowFields,
  timeout: duration({ positive: true }).default('60s'),
  cwd: path.optional().meta({ description: "Working directory; defaults to the service's cwd." }),
  env: env.optional().meta({ description: "Added to the service's env." }),
  for: z.array(z.enum(CAUSES)).default([]).meta({ description: 'Causes this runbook is the recommended repair for.' }),
  revert: revertSchema.optional(),
});

/** Restart backoff as written; the agent's is complete (defaults), a service's overrides some keys of it. */
const backoffFields = {
  initial: duration({ positive: true }).meta({ description: 'Wait before the second restart of a streak (the first is immediate); doubles each time.' }),
  max: duration({ positive: true }).meta({ description: 'The longest wait between two restarts.' }),
  resetAfter: duration({ positive: true }).meta({ description: 'A service healthy this long without a break ends its streak: its next restart is immediate again.' }),
};
const agentBackoffSchema = z
  .strictObject({
    initial: backoffFields.initial.default('1s'),
    max: backoffFields.max.default('60s'),
    resetAfter: backoffFields.resetAfter.default('5m'),
  })
  .prefault({})
  .meta({ description: 'Restart backoff of every service (a service may override it): 1st restart immediate, then initial, 2×initial, ... up to max.' });
const serviceBackoffSchema = z
  .strictObject({ initial: backoffFields.initial.optional(), max: backoffFields.max.optional(), resetAfter: backoffFields.resetAfter.optional() })
  .optional()
  .meta({ description: "This service's restart backoff; keys left out come from agent.restartBackoff." });

export const serviceSchema = z.strictObject({
  name: name('service').meta({ description: 'Unique service name.' }),
  host: name('host').default('local').meta({ description: 'Name of a host under hosts.' }),
  kind: oneOf(namesOf(kinds), 'kind').default('process').meta({ description: Object.values(kinds).map((k) => `${k.name}: ${k.description}`).join('; ') + '.' }),
  // Each kind's own fields, optional here; semantic.ts says which a service of each kind needs.
  ...Object.fromEntries(Object.values(kinds).flatMap((k) => Object.entries(k.fields).map(([key, f]) => [key, (f as z.ZodType).optional()]))) as Record<string, z.ZodOptional<z.ZodType>>,
  cwd: path.optional().meta({ description: "Working directory, relative to the config file's directory (the default)." }),
  env: env.default({}),
  stopSignal: signal.default('SIGTERM'),
  stopGrace: duration({ positive: false }).default('5s').meta({ description: 'Wait this long after stopSignal, then SIGKILL.' }),
  dependsOn: z.array(name('service')).default([]).meta({ description: 'Services this one needs; their failure explains its symptoms.' }),
  log: z
    .strictObject({
      maxSize: bytes
        // Smaller files would rotate on nearly every line: all rename, no log.
        .refine((v) => atLeast(v, 64 * 1024), { error: (iss) => `expected at least 64KiB: a log rotated every few lines keeps nothing; got ${show(iss.input)}` })
        .default('1MiB').meta({ description: 'Rotate the log before it would pass this size (at least 64KiB).' }),
      keep: z.int().min(0).default(3).meta({ description: 'Rotated log files to keep.' }),
    })
    .prefault({}),
  checks: z.array(checkSchema).default([]),
  runbooks: z.array(runbookSchema).default([]),
  reverts: revertsSchema,
  startPeriod: duration({ positive: false }).default('0s').meta({ description: 'Check failures this soon after the process starts do not count until its checks first pass (a slow start is not a hang); 0s: none.' }),
  restartBackoff: serviceBackoffSchema,
  labels: z.record(name('label'), z.string()).default({}).meta({ description: 'Free-form labels, e.g. { team: db, tier: "1" }: notification routes match them (notify[].route.labels).' }),
  onRemove: z.enum(['stop', 'leave']).optional().meta({ description: 'When a reload removes this service from the inventory: stop it (the default) or leave it running, reported as unmanaged.' }),
});

const glob = z.string().min(1).meta({ description: 'Glob: * matches any run of characters, ? one character.' });

const actionType = oneOf(namesOf(actions));

const ruleSchema = z.strictObject({
  match: z.strictObject({ service: glob.default('*'), host: glob.default('*') }).prefault({}),
  allow: z.array(actionType).default([]).meta({ description: 'Actions this rule allows on the matched services.' }),
  deny: z.array(actionType).default([]).meta({ description: 'Actions this rule forbids on the matched services, whatever other rules allow.' }),
  approval: z.enum(['none', 'required']).default('none').meta({ description: 'required: a person approves each action this rule allows first (the most restrictive matching rule wins).' }),
  approvers: z.array(z.string().min(1).max(MAX_NAME)).optional().meta({ description: 'Who may approve (approval: required): people by name, or role:NAME; default anyone but the requester.' }),
  quorum: z.int().min(1).max(100).optional().meta({ description: 'How many distinct approvers must approve (N of the approvers); default 1.' }),
  approvalTtl: duration({ positive: true }).optional().meta({ description: "How long a request waits for its approvals; then it is denied. Default policy.approvalTtl." }),
});

const personSchema = z.strictObject({
  name: name('person'),
  unix: z.string().min(1).max(MAX_NAME).optional().meta({ description: 'The Unix user that is this person when they run the CLI; default their name.' }),
  roles: z.array(z.string().min(1).max(MAX_NAME)).default([]).meta({ description: 'Roles, for approvers given as role:NAME. admin: may act as someone else with --as (audited).' }),
});

/** Where a grant, a limit or a window applies; every key left out matches everything. */
const scopeSchema = z.strictObject({
  service: glob.default('*'),
  host: glob.default('*'),
  group: glob.default('*').meta({ description: 'Glob over the subjects (groups) the target belongs to.' }),
  labels: z.record(name('label'), glob).default({}).meta({ description: "Each label must be on the service, its value matching the glob." }),
}).prefault({});

/** Why croner refuses a cron expression, or null. */
function cronError(expr: string): string | null {
  try {
    new Cron(expr, { paused: true });
    return null;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

const limitSchema = z.strictObject({
  action: oneOf([...namesOf(actions), '*']),
  per: z.enum(['service', 'action', 'scope', 'global']).default('service').meta({ description: 'service: each target counts alone; action: every target of the action type together; scope: every target in scope together; global: everything together.' }),
  scope: scopeSchema.optional().meta({ description: 'For per: scope: which targets count together.' }),
  max: count,
  window: duration({ positive: true }),
}).refine((l) => l.per !== 'scope' || l.scope !== undefined, { path: ['scope'], error: 'per: scope needs a scope, e.g. scope: { service: "web-*" }' });

const tierSchema = z.enum(TIERS);

const grantSchema = z.strictObject({
  who: z.array(z.string().min(1).max(MAX_NAME)).min(1).meta({ description: 'Identities: the agent by name, people by name, role:NAME.' }),
  scope: scopeSchema,
  tier: tierSchema.meta({ description: `Authority held on the scope, from least to most: ${TIERS.join(' < ')}.` }),
});

const windowSchema = z.strictObject({
  name: name('window'),
  cron: z.string().min(1).refine((v) => cronError(v) === null, { error: (iss) => `not a cron expression: ${cronError(String(iss.input)) ?? ''}; expected minute hour day month weekday, e.g. "0 2 * * 6" (Saturdays at 02:00)` }).meta({ description: 'When each window opens, as a cron expression (minute hour day month weekday), e.g. "0 2 * * 6".' }),
  duration: duration({ positive: true }).meta({ description: 'How long each window stays open.' }),
  effect: z.enum(['allow', 'deny']).meta({ description: 'allow: actions on the scope happen only inside such a window; deny: never inside it (deferred to its end).' }),
  scope: scopeSchema,
  timezone: z.string().min(1).optional().meta({ description: 'IANA time zone of the cron expression, e.g. Europe/Berlin; default the host\'s.' }),
});

// Defaults are output values: zod returns a default as-is, so it must already be complete.
const DEFAULT_RULES: z.output<typeof ruleSchema>[] = [
  { match: { service: '*', host: '*' }, allow: ['start', 'restart'], deny: [], approval: 'none' },
];
const DEFAULT_LIMITS: z.output<typeof limitSchema>[] = [{ action: '*', per: 'service', max: 3, window: '10m' }];

/** A kind a channel can receive; an unknown one is an error, since it would silently mute the channel. */
const NOTIFY_EVENTS = ['*', ...NOTIFY_KINDS] as const;
const notifyEvent = z.enum(NOTIFY_EVENTS, {
  error: (iss) => {
    const audited = typeof iss.input === 'string' && (AUDIT_KINDS as readonly string[]).includes(iss.input)
      ? `; ${iss.input} is recorded in the audit log ("warden events") but not sent to channels (docs/events.md)`
      : typeof iss.input === 'string' ? suggestion(iss.input, NOTIFY_EVENTS) : '';
    return `expected event ${NOTIFY_EVENTS.slice(0, -1).join(', ')} or ${NOTIFY_EVENTS[NOTIFY_EVENTS.length - 1]}; got ${show(iss.input)}${audited}`;
  },
});

function knownZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const clockTime = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, { error: (iss) => `expected a time of day as HH:MM (24-hour), e.g. 22:00; got ${show(iss.input)}` });

export const notifySchema = z.strictObject({
  name: name('channel'),
  ...pluginKeys(channels),
  events: z.array(notifyEvent).default(['*']).meta({ description: 'Event kinds to send (agent.online, ticket.opened, ticket.escalated, ticket.resolved, ...); "*" for all.' }),
  timeout: duration({ positive: true }).default('5s').meta({ description: 'One delivery attempt gives up after this long (then it is retried).' }),
  retries: z.int().min(0).default(3).meta({ description: 'Kept for old configs; ignored: a notification is retried, with backoff, until its ttl.' }),
  ttl: duration({ positive: true }).default('24h').meta({ description: 'A notification not delivered by then is dropped, and the drop audited (notify.dropped).' }),
  route: z
    .strictObject({
      severity: z.enum(['info', 'warning', 'critical']).default('info').meta({ description: 'The least severity sent (info < warning < critical).' }),
      services: z.array(glob).default([]).meta({ description: 'Only events about these services (globs); [] for all. Events about no service (Warden itself) always pass.' }),
      labels: z.record(name('label'), glob).default({}).meta({ description: "Only events about services whose labels match, e.g. { team: db }." }),
    })
    .prefault({})
    .meta({ description: 'Which events reach this channel. A resolve (or recovery) reaches every channel that was told of the problem.' }),
  rateLimit: z
    .strictObject({ max: count, per: duration({ positive: true }) })
    .optional()
    .meta({ description: 'At most max deliveries per period; the rest wait their turn (nothing is lost).' }),
  quietHours: z
    .strictObject({
      from: clockTime, to: clockTime,
      timezone: z.string().min(1).refine(knownZone, { error: (iss) => `expected an IANA time zone such as Europe/Paris or UTC; got ${show(iss.input)}` }).optional().meta({ description: 'IANA zone, e.g. Europe/Paris; the host\'s local time if left out.' }),
    })
    .optional()
    .meta({ description: 'Between from and to only escalations and critical events are sent; the rest wait until it ends.' }),
  digest: z
    .strictObject({ after: count, window: duration({ positive: true }) })
    .optional()
    .meta({ description: 'When more than `after` events arrive within `window`, the rest of the window is sent as one digest message.' }),
  repeat: duration({ positive: true }).optional().meta({ description: 'While a problem stays unresolved, remind this often (ticket.reminder).' }),
  resolveHold: duration({ positive: false }).default('0s').meta({ description: 'Hold a resolve this long; if the problem returns meanwhile, neither is sent (a flapping service stays one incident).' }),
});

/** An invariant of a subject written in PromQL, alert-style: broken while `expr` returns series held for `for`. */
const promqlInvariantSchema = z.strictObject({
  id: name('invariant').meta({ description: "Unique within the subject (and distinct from its type's own invariants): the finding names it." }),
  expr: z
    .string()
    .trim()
    .min(1, { error: 'expected a PromQL expression that selects the bad condition, e.g. sum(rate(errors_total[1m])) > 5' })
    .meta({ description: 'PromQL selecting the bad condition, as in an alerting rule: the invariant is broken while it returns series.' }),
  for: duration({ positive: false }).default('0s').meta({ description: 'How long a series must keep being returned before the invariant is broken; 0s: at once.' }),
  cause: z.enum(CAUSES).default('unknown').meta({ description: `The cause a violation implies: ${CAUSES.join(', ')}.` }),
  description: z.string().min(1).optional().meta({ description: 'What must hold, for people; default the expression.' }),
});

/** A subject names its type by the one plugin key it has (like a check its probe); semantic.ts enforces it. */
export const subjectSchema = z.strictObject({
  name: name('subject').meta({ description: 'Unique among services and subjects: its ticket is named after it.' }),
  members: z.array(name('service')).min(1).meta({ description: 'The services it is made of.' }),
  interval: duration({ positive: true }).default('1s').meta({ description: 'How often a subject that reads its system (etcd: members, leader, alarms) does so.' }),
  promql: z.array(promqlInvariantSchema).default([]).meta({ description: "Invariants in PromQL, evaluated every interval against agent.prometheus (docs/subjects.md#promql-invariants)." }),
  ...pluginKeys(subjects),
});

export const alertsSchema = z
  .strictObject({
    labels: z.array(z.string().min(1)).min(1).default([...DEFAULT_ALERTS.labels]).meta({ description: 'Labels tried in order: the first whose value is the name of a service (or, for host:port values, whose host part is) places the alert on it.' }),
    expireAfter: duration({ positive: true }).default(formatDuration(DEFAULT_ALERTS.expireAfterMs)).meta({ description: "A firing alert not sent again for this long counts as gone; keep it above Alertmanager's repeat_interval (default 4h)." }),
  })
  .prefault({})
  .meta({ description: 'Alerts from Alertmanager (POST /api/alerts) become unresolved_incident findings on the services their labels name (docs/notifications.md).' });

const httpUrl = z.url({ protocol: /^https?$/, error: (iss) => `expected an http:// or https:// URL; got ${show(iss.input)}` });

export const heartbeatSchema = z
  .strictObject({
    url: httpUrl.meta({ description: 'The URL to ping, e.g. https://hc-ping.com/<uuid> (healthchecks.io); its path is never logged.' }),
    method: z.enum(['GET', 'POST']).default('GET').meta({ description: 'POST sends a one-line body (agent and time).' }),
    every: duration({ positive: true }).default('1m').meta({ description: "At most one ping this often; set the receiver's period to it and its grace above a few intervals." }),
    timeout: duration({ positive: true }).default('10s'),
  })
  .optional()
  .meta({ description: "Dead man's switch: a ping after passes that complete while Warden does its job; they stop when its loop wedges or it dies (docs/notifications.md)." });

export const peerSchema = z.strictObject({
  name: name('peer').meta({ description: 'How the peer is named in events and status, e.g. its agent name.' }),
  url: httpUrl.meta({ description: "The peer Warden's /healthz, e.g. http://10.0.0.2:7070/healthz (no token needed)." }),
  interval: duration({ positive: true }).default('5s'),
  timeout: duration({ positive: true }).default('2s').meta({ description: 'Give up on one probe after this long.' }),
  failures: count.default(3).meta({ description: 'Failed probes in a row before the peer is reported unreachable.' }),
});

const apiTokenSchema = z.strictObject({
  name: name('token').meta({ description: 'The identity requests with this token act as: token:NAME in the audit log and in approvers.' }),
  file: path.meta({ description: 'File holding the token (mode 0600), e.g. "openssl rand -hex 32 > ci.token".' }),
  role: z.string().min(1).max(MAX_NAME).optional().meta({ description: 'A role the token has, for approvers given as role:NAME.' }),
  person: z.string().min(1).max(MAX_NAME).optional().meta({ description: "The person (people[].name) the token acts for: it approves as person:NAME, with that person's roles." }),
});

const agentSchema = z.strictObject({
  name: name('agent', AGENT_NAME, true).meta({ description: 'Identity of this agent in the audit log and in policy.' }),
  lab: z.boolean().default(false).meta({ description: 'This is a lab (the demo, the tests): `warden chaos` injects faults here without --i-know (docs/chaos.md).' }),
  prometheus: z
    .url({ protocol: /^https?$/, error: (iss) => `expected Prometheus's http:// or https:// base URL, e.g. ${DEFAULT_PROMETHEUS}; got ${show(iss.input)}` })
    .default(DEFAULT_PROMETHEUS)
    .meta({ description: `The Prometheus that subjects' PromQL invariants ask; default ${DEFAULT_PROMETHEUS}.` }),
  mode: z.enum(MODES).default('recommend').meta({ description: 'observe: watch only; recommend: propose actions; execute: act under policy.' }),
  dataDir: path.default('.warden').meta({ description: "Store, audit chain and reboot log; relative to the config file's directory." }),
  interval: duration({ positive: true }).default('1s').meta({ description: 'The loop looks at least this often: a pass whenever anything is open or changed (events wake it at once).' }),
  resync: duration({ positive: true }).default('10s').meta({ description: 'A full level-based pass over the whole inventory (every service observed afresh) at least this often; never more often than interval.' }),
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
      tokenFile: path.optional().meta({ description: 'File holding the bearer token (mode 0600); without it, the WARDEN_API_TOKEN environment variable.' }),
      allowRemote: z.boolean().default(false).meta({ description: 'Needed to listen on an address other hosts reach (anything but loopback); then give tls, or insecureReason.' }),
      tls: z
        .strictObject({
          cert: path.meta({ description: 'PEM certificate (chain) file.' }),
          key: path.meta({ description: 'PEM private key file (mode 0600).' }),
        })
        .optional()
        .meta({ description: 'Serve HTTPS; warden status and debug pin this certificate.' }),
      insecureReason: z.string().min(1).optional().meta({ description: 'Why a remote API may go without TLS (e.g. "only on the wg0 VPN"); logged at every start.' }),
      maxConnections: count.default(64).meta({ description: 'Open connections at most; a request on a connection past it gets 503 at once.' }),
      tokens: z
        .array(apiTokenSchema)
        .default([])
        .superRefine((list, ctx) => {
          const seen = new Set<string>();
          list.forEach((t, i) => {
            if (seen.has(t.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `token ${show(t.name)} is listed twice; token names are unique` });
            seen.add(t.name);
          });
        })
        .meta({ description: 'Named bearer tokens: a request with one acts as token:NAME (or as its person), e.g. to approve through POST /api/actions/ID/approve (docs/policy.md).' }),
      publicUrl: httpUrl.optional().meta({ description: "Warden's API as approvers reach it (through a proxy, say), e.g. https://warden.example.com; with it, approval requests carry signed approve/reject links (docs/notifications.md)." }),
    })
    .optional()
    .meta({ description: 'HTTP API: /healthz, /metrics, /api/status, /api/tickets, /api/services/NAME/diagnostics, /api/events, POST /api/alerts for Alertmanager, POST /api/actions/ID/approve|reject with a named token, and approval links under /links/.' }),
  restartBackoff: agentBackoffSchema,
  reopenWindow: duration({ positive: false }).default('10m').meta({ description: 'A problem that returns within this window reopens its ticket.' }),
  flapThreshold: count.default(3).meta({ description: 'Occurrences within reopenWindow that make a ticket flapping: automation stops and it escalates until resolved by hand.' }),
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
    subjects: z
      .array(subjectSchema)
      .default([])
      .meta({ description: `Systems made of services, with invariants over them (docs/subjects.md), each with exactly one of: ${Object.keys(subjects).join(', ')}.` }),
    alerts: alertsSchema,
    diagnosis: diagnosisSchema,
    heartbeat: heartbeatSchema,
    peers: z
      .array(peerSchema)
      .default([])
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((p, i) => {
          if (seen.has(p.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `peer ${show(p.name)} is listed twice; peer names are unique` });
          seen.add(p.name);
        });
      })
      .meta({ description: 'Other Wardens this one watches through their /healthz (mutual watch): peer.unreachable when one fails, peer.recovered when it is back.' }),
    notify: z
      .array(notifySchema)
      .default([])
      .meta({ description: `Out-of-band notification channels, each with exactly one of: ${Object.keys(channels).join(', ')}.` }),
    people: z.array(personSchema).default([]).meta({ description: 'People and their roles: who may approve (policy.rules[].approvers) and who is an admin. Empty: every local user is a person with no role.' }),
    policy: z
      .strictObject({
        rules: z.array(ruleSchema).default(DEFAULT_RULES).meta({ description: 'Every matching rule counts: an action is allowed if one allows it and none denies it; approval is required if any allowing rule requires it (docs/policy.md).' }),
        limits: z.array(limitSchema).default(DEFAULT_LIMITS).meta({ description: 'Rate limits on automatic actions, per service.' }),
        approvalTtl: duration({ positive: true }).default('1h').meta({ description: 'How long an approval request waits before it is denied, unless its rule says otherwise.' }),
        tiers: z.array(grantSchema).default([]).meta({ description: 'Who holds which authority tier on which scope; empty: tiers are not enforced (docs/policy.md).' }),
        concurrency: count.optional().meta({ description: 'Actions executing at once, at most.' }),
        cooldown: duration({ positive: false }).default('0s').meta({ description: 'No repair of a target within this long after its last one started.' }),
        windows: z.array(windowSchema).default([]).meta({ description: 'Maintenance windows (cron + duration) that allow or deny acting.' }),
        shadow: z.array(scopeSchema).default([]).meta({ description: 'Scopes in shadow: Warden diagnoses and decides there as if to act, records what it would have done, and never acts (docs/policy.md).' }),
      })
      .prefault({})
      .meta({ description: 'Which actions Warden may take on which services, and how often.' }),
  })
  .meta({ title: 'warden.yaml', description: 'Configuration of a Warden agent: what should run, how to check it, what it may do.' });

export type ConfigInput = z.input<typeof configSchema>;
export type ConfigOutput = z.output<typeof configSchema>;
