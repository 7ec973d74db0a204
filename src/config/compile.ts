// The validated file compiled once into ResolvedConfig: absolute paths, milliseconds, bytes,
// defaults filled in, check ids assigned. Nothing downstream sees the file's spelling.
import { subjects } from '../subjects/index.js';
import type { SubjectPlugin } from '../subjects/subject.js';
import { dirname, resolve } from 'node:path';
import type { z } from 'zod';
import type { ApiSpec, ChannelCommon, CheckSpec, NotifyChannel, ResolvedConfig, RunbookSpec, Scope, ServiceSpec } from '../domain/types.js';
import { actions } from '../actions/index.js';
import { kinds } from '../kinds/index.js';
import type { KindPlugin } from '../kinds/kind.js';
import { parseAddress } from '../lib/address.js';
import { channels } from '../notify/channels.js';
import type { ChannelPlugin } from '../notify/channel.js';
import { lookup, type Plugin } from '../plugins/plugin.js';
import { probes } from '../probes/index.js';
import { parseBytes, parseDuration } from '../lib/duration.js';
import type { ConfigOutput } from './schema.js';
import { compileHost } from './hosts.js';
import { checkId } from './semantic.js';
import { compileDiagnosis } from './diagnosis.js';
import { compileRevert, compileWorkflow } from './workflow.js';

type ServiceIn = ConfigOutput['services'][number];
type CheckIn = ServiceIn['checks'][number];

const stringEnv = (env: Record<string, string | number | boolean>): Record<string, string> =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)]));

/** `file` must be absolute; relative paths in the file are resolved against its directory. */
export function compile(cfg: ConfigOutput, file: string): ResolvedConfig {
  const base = dirname(file);
  const a = cfg.agent;
  return {
    file,
    agent: {
      name: a.name,
      mode: a.mode,
      lab: a.lab,
      prometheus: a.prometheus,
      dataDir: resolve(base, a.dataDir),
      intervalMs: parseDuration(a.interval),
      resyncMs: Math.max(parseDuration(a.resync), parseDuration(a.interval)),
      verifyStableMs: parseDuration(a.verify.stable),
      verifyDeadlineMs: parseDuration(a.verify.deadline),
      crashLoopWindowMs: parseDuration(a.crashLoop.window),
      crashLoopExits: a.crashLoop.exits,
      reopenWindowMs: parseDuration(a.reopenWindow),
      flapThreshold: a.flapThreshold,
      api: a.api === undefined ? null : compileApi(a.api, base),
    },
    hosts: cfg.hosts.map((h) => compileHost(h, base)),
    services: cfg.services.map((s) => compileService(s, base, a.restartBackoff)),
    subjects: cfg.subjects.map((s, i) => {
      const [type, plugin] = pluginOf<SubjectPlugin>('subject', subjects, s, `subjects[${i}]`);
      const host = cfg.services.find((x) => x.name === s.members[0])?.host ?? 'local';
      return { name: s.name, type, host, members: [...s.members], params: { ...plugin.compile((s as Record<string, unknown>)[type], { base, serviceCwd: base }) }, intervalMs: parseDuration(s.interval),
        ...(s.promql.length > 0 ? { promql: s.promql.map((q) => ({ id: q.id, expr: q.expr, forMs: parseDuration(q.for), cause: q.cause, description: q.description ?? q.expr })) } : {}) };
    }),
    notify: cfg.notify.map((n, i) => {
      const [type, plugin] = pluginOf<ChannelPlugin>('channel', channels, n, `notify[${i}]`);
      const fields = plugin.compile((n as Record<string, unknown>)[type], { base, serviceCwd: base });
      return { name: n.name, type, ...fields, ...compileChannelCommon(n) } as NotifyChannel;
    }),
    alerts: { labels: [...cfg.alerts.labels], expireAfterMs: parseDuration(cfg.alerts.expireAfter) },
    diagnosis: compileDiagnosis(cfg.diagnosis, base),
    heartbeat: cfg.heartbeat === undefined ? null : {
      url: cfg.heartbeat.url, method: cfg.heartbeat.method, everyMs: parseDuration(cfg.heartbeat.every), timeoutMs: parseDuration(cfg.heartbeat.timeout),
    },
    peers: cfg.peers.map((p) => ({ name: p.name, url: p.url, intervalMs: parseDuration(p.interval), timeoutMs: parseDuration(p.timeout), failures: p.failures })),
    policy: {
      rules: cfg.policy.rules.map((r) => ({
        match: { service: r.match.service, host: r.match.host },
        allow: [...new Set(r.allow)],
        // Absent when empty: a rule that denies nothing reads as it always did.
        ...(r.deny.length > 0 ? { deny: [...new Set(r.deny)] } : {}),
        approval: r.approval,
        ...(r.approvers ? { approvers: [...r.approvers] } : {}),
        ...(r.quorum !== undefined ? { quorum: r.quorum } : {}),
        ...(r.approvalTtl !== undefined ? { approvalTtlMs: parseDuration(r.approvalTtl) } : {}),
      })),
      limits: cfg.policy.limits.map((l) => ({ action: l.action, per: l.per, ...(l.scope ? { scope: compileScope(l.scope) } : {}), max: l.max, windowMs: parseDuration(l.window) })),
      approvalTtlMs: parseDuration(cfg.policy.approvalTtl),
      tiers: cfg.policy.tiers.map((g) => ({ who: [...g.who], scope: compileScope(g.scope), tier: g.tier })),
      actionTiers: Object.fromEntries(Object.values(actions).map((a) => [a.name, a.tier])),
      ...(cfg.policy.concurrency !== undefined ? { concurrency: cfg.policy.concurrency } : {}),
      cooldownMs: parseDuration(cfg.policy.cooldown),
      windows: cfg.policy.windows.map((w) => ({ name: w.name, cron: w.cron, durationMs: parseDuration(w.duration), effect: w.effect, scope: compileScope(w.scope), ...(w.timezone ? { timezone: w.timezone } : {}) })),
      // Absent when empty: a policy without shadow reads as it always did.
      ...(cfg.policy.shadow.length > 0 ? { shadow: cfg.policy.shadow.map(compileScope) } : {}),
    },
    people: cfg.people.map((p) => ({ name: p.name, unix: p.unix ?? p.name, roles: [...new Set(p.roles)] })),
  };
}

function compileChannelCommon(n: ConfigOutput['notify'][number]): Omit<ChannelCommon, 'name'> {
  const minutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
  return {
    events: [...n.events],
    timeoutMs: parseDuration(n.timeout),
    retries: n.retries,
    ttlMs: parseDuration(n.ttl),
    route: { severity: n.route.severity, services: [...n.route.services], labels: { ...n.route.labels } },
    rateLimit: n.rateLimit ? { max: n.rateLimit.max, perMs: parseDuration(n.rateLimit.per) } : null,
    quietHours: n.quietHours ? { from: minutes(n.quietHours.from), to: minutes(n.quietHours.to), timezone: n.quietHours.timezone ?? null } : null,
    digest: n.digest ? { after: n.digest.after, windowMs: parseDuration(n.digest.window) } : null,
    repeatMs: n.repeat === undefined ? null : parseDuration(n.repeat),
    resolveHoldMs: parseDuration(n.resolveHold),
  };
}

function compileApi(api: NonNullable<ConfigOutput['agent']['api']>, base: string): ApiSpec {
  // The schema has validated the address, so it parses.
  const { host, port } = parseAddress(api.listen)!;
  return {
    host, port,
    tokenFile: api.tokenFile === undefined ? null : resolve(base, api.tokenFile),
    allowRemote: api.allowRemote,
    tls: api.tls === undefined ? null : { cert: resolve(base, api.tls.cert), key: resolve(base, api.tls.key) },
    insecureReason: api.insecureReason ?? null,
    maxConnections: api.maxConnections,
    tokens: api.tokens.map((t) => ({ name: t.name, file: resolve(base, t.file), role: t.role ?? null, person: t.person ?? null })),
    publicUrl: api.publicUrl ?? null,
  };
}

function compileService(s: ServiceIn, base: string, agentBackoff: ConfigOutput['agent']['restartBackoff']): ServiceSpec {
  const b = { ...agentBackoff, ...Object.fromEntries(Object.entries(s.restartBackoff ?? {}).filter(([, v]) => v !== undefined)) };
  const cwd = resolve(base, s.cwd ?? '.');
  const env = stringEnv(s.env);
  const kind = lookup('kind', kinds, s.kind) as KindPlugin;
  // The kind's own fields, validated again by its own schema: the service schema had them optional.
  const own = kind.config.parse(Object.fromEntries(Object.keys(kind.fields).map((k) => [k, (s as Record<string, unknown>)[k]])));
  return {
    name: s.name,
    host: s.host,
    kind: s.kind,
    ...kind.compile(own, { base, serviceCwd: cwd, service: s.name }),
    cwd,
    env,
    stopSignal: s.stopSignal as NodeJS.Signals,
    stopGraceMs: parseDuration(s.stopGrace),
    dependsOn: [...new Set(s.dependsOn)],
    checks: s.checks.map((c, i) => compileCheck(c, i, base, cwd)),
    // A runbook repairs its service, so by default it runs where the service runs, with its env.
    runbooks: s.runbooks.map(
      (r): RunbookSpec => {
        const workflow = compileWorkflow(r.steps, r.onFailure, { base, serviceCwd: cwd });
        const revert = compileRevert(r.revert);
        return {
          name: r.name,
          argv: [...(r.run ?? [])],
          cwd: r.cwd === undefined ? cwd : resolve(base, r.cwd),
          env: { ...env, ...stringEnv(r.env ?? {}) },
          timeoutMs: parseDuration(r.timeout),
          for: [...new Set(r.for)],
          ...(workflow ? { workflow } : {}),
          ...(revert ? { revert } : {}),
        };
      },
    ),
    ...(s.reverts && Object.keys(s.reverts).length > 0
      ? { reverts: Object.fromEntries(Object.entries(s.reverts).map(([type, r]) => [type, compileRevert(r)])) }
      : {}),
    logMaxBytes: parseBytes(s.log.maxSize),
    logKeep: s.log.keep,
    restartBackoff: { initialMs: parseDuration(b.initial), maxMs: parseDuration(b.max), resetAfterMs: parseDuration(b.resetAfter) },
    startPeriodMs: parseDuration(s.startPeriod),
    ...(s.onRemove === 'leave' ? { onRemove: 'leave' } : {}),
    ...(Object.keys(s.labels).length > 0 ? { labels: { ...s.labels } } : {}),
  } as ServiceSpec;
}

/** The one plugin key an item has (semanticIssues rejects items with none or two before compile runs). */
function pluginOf<P extends Plugin>(family: 'probe' | 'channel' | 'subject', table: Record<string, Plugin>, item: object, where: string): [string, P] {
  const key = Object.keys(table).find((k) => (item as Record<string, unknown>)[k] !== undefined);
  if (key === undefined) throw new Error(`${where} names no ${family}`); // a bug: validation let it through
  return [key, lookup(family, table, key) as P];
}

function compileCheck(c: CheckIn, index: number, base: string, serviceCwd: string): CheckSpec {
  const [type, plugin] = pluginOf<Plugin<string, z.ZodType, object>>('probe', probes, c, `check #${index}`);
  const probe = { type, ...plugin.compile((c as Record<string, unknown>)[type], { base, serviceCwd }) };
  return {
    id: checkId(c.name, probe.type, index),
    probe,
    intervalMs: parseDuration(c.interval),
    timeoutMs: parseDuration(c.timeout),
    failures: c.failures,
    successes: c.successes,
    ...(c.slowerThan === undefined ? {} : { slowerThanMs: parseDuration(c.slowerThan) }),
  };
}

function compileScope(s: ConfigOutput['policy']['tiers'][number]['scope']): Scope {
  return { service: s.service, host: s.host, group: s.group, labels: { ...s.labels } };
}
