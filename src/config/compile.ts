// The validated file compiled once into ResolvedConfig: absolute paths, milliseconds, bytes,
// defaults filled in, check ids assigned. Nothing downstream sees the file's spelling.
import { dirname, resolve } from 'node:path';
import type { ApiSpec, CheckSpec, ProbeSpec, ResolvedConfig, RunbookSpec, ServiceSpec } from '../domain/types.js';
import { parseAddress } from '../lib/address.js';
import { parseBytes, parseDuration } from '../lib/duration.js';
import type { ConfigOutput } from './schema.js';
import { checkId } from './semantic.js';

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
      dataDir: resolve(base, a.dataDir),
      intervalMs: parseDuration(a.interval),
      verifyStableMs: parseDuration(a.verify.stable),
      verifyDeadlineMs: parseDuration(a.verify.deadline),
      crashLoopWindowMs: parseDuration(a.crashLoop.window),
      crashLoopExits: a.crashLoop.exits,
      reopenWindowMs: parseDuration(a.reopenWindow),
      flapThreshold: a.flapThreshold,
      api: a.api === undefined ? null : compileApi(a.api, base),
    },
    hosts: cfg.hosts.map((h) => ({ name: h.name, transport: h.transport })),
    services: cfg.services.map((s) => compileService(s, base)),
    notify: cfg.notify.map((n) => ({
      name: n.name, type: 'webhook' as const, url: n.webhook.url, headers: { ...n.webhook.headers },
      events: [...n.events], timeoutMs: parseDuration(n.timeout), retries: n.retries,
    })),
    policy: {
      rules: cfg.policy.rules.map((r) => ({
        match: { service: r.match.service, host: r.match.host },
        allow: [...new Set(r.allow)],
        approval: r.approval,
      })),
      limits: cfg.policy.limits.map((l) => ({ action: l.action, per: l.per, max: l.max, windowMs: parseDuration(l.window) })),
    },
  };
}

function compileApi(api: NonNullable<ConfigOutput['agent']['api']>, base: string): ApiSpec {
  // The schema has validated the address, so it parses.
  const { host, port } = parseAddress(api.listen)!;
  return { host, port, tokenFile: api.tokenFile === undefined ? null : resolve(base, api.tokenFile) };
}

function compileService(s: ServiceIn, base: string): ServiceSpec {
  const cwd = resolve(base, s.cwd ?? '.');
  const env = stringEnv(s.env);
  return {
    name: s.name,
    host: s.host,
    kind: s.kind,
    start: [...(s.start ?? [])],
    unit: s.unit ?? null,
    cwd,
    env,
    stopSignal: s.stopSignal as NodeJS.Signals,
    stopGraceMs: parseDuration(s.stopGrace),
    dependsOn: [...new Set(s.dependsOn)],
    checks: s.checks.map((c, i) => compileCheck(c, i, base, cwd)),
    // A runbook repairs its service, so by default it runs where the service runs, with its env.
    runbooks: s.runbooks.map(
      (r): RunbookSpec => ({
        name: r.name,
        argv: [...r.run],
        cwd: r.cwd === undefined ? cwd : resolve(base, r.cwd),
        env: { ...env, ...stringEnv(r.env ?? {}) },
        timeoutMs: parseDuration(r.timeout),
        for: [...new Set(r.for)],
      }),
    ),
    logMaxBytes: parseBytes(s.log.maxSize),
    logKeep: s.log.keep,
  };
}

function compileCheck(c: CheckIn, index: number, base: string, serviceCwd: string): CheckSpec {
  let probe: ProbeSpec;
  if (c.http !== undefined) {
    probe = { type: 'http', url: c.http.url, expectStatus: c.http.expectStatus };
    if (c.http.bodyMatch !== undefined) probe.bodyMatch = c.http.bodyMatch;
  } else if (c.tcp !== undefined) {
    probe = { type: 'tcp', address: c.tcp.address };
  } else if (c.exec !== undefined) {
    probe = { type: 'exec', argv: [...c.exec.argv], cwd: c.exec.cwd === undefined ? serviceCwd : resolve(base, c.exec.cwd) };
  } else {
    // semanticIssues rejects such a check before compile runs; reaching this is a bug.
    throw new Error(`check #${index} has no probe`);
  }
  return {
    id: checkId(c.name, probe.type, index),
    probe,
    intervalMs: parseDuration(c.interval),
    timeoutMs: parseDuration(c.timeout),
    failures: c.failures,
    successes: c.successes,
  };
}
