// The daemon's HTTP API: /healthz for supervisors and load balancers (no token), /metrics for
// Prometheus, and read-only JSON under /api for people and scripts. Everything but /healthz and
// approval links needs a bearer token. Handlers read, with two exceptions: POST /api/alerts takes
// observations in (Alertmanager's alerts, which become findings like a probe's results), and
// approve/reject (decisions.ts) submit a person's command to the same one writer the CLI uses, as
// the identity of a named token or of a signed link, so the API adds no second set of rules.
import { WardenError } from '../lib/errors.js';
import { TOKEN_ENV } from '../lib/childenv.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AlertReceipt, IncomingAlert } from '../domain/alerts.js';
import { AlertPayloadError, MAX_BODY_BYTES, parseAlertmanager } from './alertmanager.js';
import { ticketJson } from '../views/json.js';
import { eventFilterOf, eventJson, followAudit, type AuditSource, type EventFilter, type Followers } from '../views/events.js';
import type { ApiSpec, CheckState, Millis, ProcessState, ResolvedConfig, Summary, TicketStatus } from '../domain/types.js';
import type { Store } from '../store/store.js';
import type { PodJson } from './pod.js';
import type { HostResources } from '../diagnosis/pieces.js';
import { apiStatus, diagnosticsBundle, LOG_LINES, progressVerdict, TICKET_STATUSES, type DamagedJson, type PassFailure, type ReadSide } from './diagnostics.js';
import type { WardenMetrics } from './metrics.js';
import { ApiConfigError } from './server.js';
import { decisionRoutes, type DecisionDeps } from './decisions.js';
import { NOBODY, type Caller, type NamedToken } from './identity.js';

export { TOKEN_ENV } from '../lib/childenv.js';
export { ApiConfigError, startApi, type RunningApi } from './server.js';
export { apiBaseUrl, apiGet, type ApiAnswer } from './client.js';

const MAX_LOG_LINES = 1000;

export interface TicketQuery { all: boolean; status?: TicketStatus; limit: number }

export interface ApiDeps {
  /** The expected bearer token; null rejects every authenticated request (fail closed). */
  token: () => string | null;
  healthy: () => { ok: boolean; reason: string } & Record<string, unknown>;
  status: () => unknown;
  tickets: (q: TicketQuery) => unknown;
  /** Names of the services in the inventory (for the 404 of an unknown one). */
  services: () => string[];
  /** null when there is no such service. */
  diagnostics: (name: string, q: { lines: number }) => unknown;
  metrics: () => Promise<string>;
  metricsContentType: string;
  /** The audit log for GET /api/events; `followers` ends its streams when the server stops. */
  events?: { source: AuditSource; followers: Followers; now: () => Millis; heartbeatMs?: number; pollMs?: number };
  /** Takes the alerts of one Alertmanager delivery (POST /api/alerts); absent: not taken here. */
  alerts?: (incoming: IncomingAlert[]) => AlertReceipt;
  /** Named tokens (agent.api.tokens): who a request is. */
  named?: () => readonly NamedToken[];
  /** Approve and reject through the API and approval links; absent: not taken here. */
  decisions?: DecisionDeps;
}

/** SSE comments this often keep proxies and load balancers from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

/** An error with the HTTP status and stable code it maps to. */
export class ApiError extends WardenError {
  constructor(readonly status: ContentfulStatusCode, code: string, message: string, readonly details: Record<string, unknown> = {}) {
    super(code, message);
  }
}

/**
 * The bearer token from agent.api.tokenFile, or from WARDEN_API_TOKEN when no file is configured.
 * Trimmed (files end with a newline). Throws ApiConfigError when there is none; never puts the token
 * itself in a message.
 */
export function readToken(spec: ApiSpec, env: NodeJS.ProcessEnv = process.env): string {
  let token: string;
  if (spec.tokenFile !== null) {
    try {
      token = readFileSync(spec.tokenFile, 'utf8').trim();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      throw new ApiConfigError('API_TOKEN_MISSING', `agent.api.tokenFile ${spec.tokenFile}: cannot read it (${code}); write a secret token into it, e.g. "openssl rand -hex 32 > ${spec.tokenFile}"`, { cause: e });
    }
    if (token === '') throw new ApiConfigError('API_TOKEN_MISSING', `agent.api.tokenFile ${spec.tokenFile} is empty; write a secret token into it`);
  } else {
    token = (env[TOKEN_ENV] ?? '').trim();
    if (token === '') throw new ApiConfigError('API_TOKEN_MISSING', `agent.api is configured but has no token: set agent.api.tokenFile, or the ${TOKEN_ENV} environment variable`);
  }
  return token;
}

/** Constant-time: both sides are hashed first, so neither content nor length shows in the timing. */
export function tokenMatches(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function bearer(c: Context): string | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header('authorization') ?? '');
  return m ? m[1]! : null;
}

function fail(c: Context, status: ContentfulStatusCode, code: string, message: string, details: Record<string, unknown> = {}): Response {
  return c.json({ error: { code, message, ...details } }, status);
}

function flag(v: string | undefined): boolean {
  return v !== undefined && v !== 'false' && v !== '0';
}

function intParam(v: string | undefined, name: string, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new ApiError(400, 'bad_request', `${name}: expected an integer from 0 to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

/** Who the bearer token names: a named token's identity, or nobody for the unnamed one; null: no match. */
function callerOf(given: string, deps: ApiDeps): Caller | null {
  // Every candidate is compared, so the timing does not say which one matched.
  const named = (deps.named?.() ?? []).filter((t) => tokenMatches(given, t.secret));
  const expected = deps.token();
  const unnamed = expected !== null && tokenMatches(given, expected);
  const t = named[0];
  if (t) return { token: t.name, by: t.by, roles: t.roles };
  return unnamed ? NOBODY : null;
}

export function createApi(deps: ApiDeps): Hono {
  const app = new Hono();

  // The one error mapper: every failure is { error: { code, message } } with a fitting status.
  app.onError((err, c) => {
    if (err instanceof ApiError) return fail(c, err.status, err.code, err.message, err.details);
    if (err instanceof HTTPException) return fail(c, err.status, 'http_error', err.message || 'request failed');
    return fail(c, 500, 'internal', err instanceof Error ? err.message : String(err));
  });
  app.notFound((c) => fail(c, 404, 'not_found', `no route ${c.req.method} ${c.req.path}`));

  app.use('*', async (c, next) => {
    // Liveness is unauthenticated (supervisors probe it); it says nothing beyond up or stuck.
    // Approval links carry their own credential, a signature (runtime/links.ts).
    if (c.req.path === '/healthz' || c.req.path.startsWith('/links/')) return next();
    const given = bearer(c);
    if (given === null) {
      c.header('WWW-Authenticate', 'Bearer realm="warden"');
      return fail(c, 401, 'unauthorized', 'missing bearer token: send "Authorization: Bearer <token>"');
    }
    const caller = callerOf(given, deps);
    if (caller === null) {
      c.header('WWW-Authenticate', 'Bearer realm="warden", error="invalid_token"');
      return fail(c, 401, 'unauthorized', 'invalid bearer token');
    }
    c.set('caller', caller);
    return next();
  });

  app.get('/healthz', (c) => {
    const h = deps.healthy();
    return c.json(h, h.ok ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    const text = await deps.metrics();
    return c.body(text, 200, { 'Content-Type': deps.metricsContentType });
  });

  app.get('/api/status', (c) => c.json(deps.status() as object));

  app.get('/api/tickets', (c) => {
    const status = c.req.query('status');
    if (status !== undefined && !TICKET_STATUSES.includes(status as TicketStatus)) {
      throw new ApiError(400, 'bad_request', `unknown status "${status}"; expected one of ${TICKET_STATUSES.join(', ')}`);
    }
    const q: TicketQuery = { all: flag(c.req.query('all')), limit: intParam(c.req.query('limit'), 'limit', 50, 10_000), ...(status ? { status: status as TicketStatus } : {}) };
    return c.json(deps.tickets(q) as object);
  });

  app.get('/api/services/:name/diagnostics', (c) => {
    const name = c.req.param('name');
    const lines = intParam(c.req.query('lines'), 'lines', LOG_LINES, MAX_LOG_LINES);
    const bundle = deps.diagnostics(name, { lines });
    if (bundle === null || bundle === undefined) {
      const known = deps.services();
      throw new ApiError(404, 'unknown_service', `no service "${name}" in the inventory; known: ${known.join(', ') || 'none'}`, { known });
    }
    return c.json(bundle as object);
  });

  // Alertmanager's webhook (webhook_config with the bearer token in http_config.authorization).
  // 2xx: taken; 400: Alertmanager would only send it again, so it says what is wrong, for its log.
  app.post('/api/alerts', bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) => fail(c, 413, 'too_large', `the body is over ${MAX_BODY_BYTES} bytes; set max_alerts in Alertmanager's webhook_config`),
  }), async (c) => {
    const receive = deps.alerts;
    if (!receive) throw new ApiError(404, 'not_found', 'this server does not take alerts');
    let alerts: IncomingAlert[];
    try {
      alerts = parseAlertmanager(await c.req.text());
    } catch (e) {
      if (e instanceof AlertPayloadError) throw new ApiError(400, e.code, e.message, e.issues.length > 0 ? { issues: e.issues } : {});
      throw e;
    }
    return c.json(receive(alerts));
  });

  decisionRoutes(app, deps.decisions);

  // Server-Sent Events: every audit record after ?after= (or Last-Event-ID, which a reconnecting
  // EventSource sends), then each new one; `id:` is the seq, so a client resumes without gaps or
  // duplicates.
  app.get('/api/events', (c) => {
    const ev = deps.events;
    if (!ev) throw new ApiError(404, 'not_found', 'this server does not serve events');
    const after = Math.max(
      intParam(c.req.query('after'), 'after', 0, Number.MAX_SAFE_INTEGER),
      intParam(c.req.header('last-event-id'), 'Last-Event-ID', 0, Number.MAX_SAFE_INTEGER),
    );
    const filter = eventFilter(c, ev.now());
    return streamSSE(c, (stream) => ev.followers.track((async () => {
      const ctl = new AbortController();
      const stop = (): void => ctl.abort();
      ev.followers.signal.addEventListener('abort', stop, { once: true });
      stream.onAbort(stop);
      const beat = setInterval(() => { void stream.write(': keep-alive\n\n'); }, ev.heartbeatMs ?? HEARTBEAT_MS);
      try {
        await stream.write(': warden events\n\n');
        for await (const r of followAudit(ev.source, { afterSeq: after, filter, signal: ctl.signal, ...(ev.pollMs ? { pollMs: ev.pollMs } : {}) })) {
          await stream.writeSSE({ id: String(r.seq), data: JSON.stringify(eventJson(r)) });
        }
      } finally {
        clearInterval(beat);
        ev.followers.signal.removeEventListener('abort', stop);
      }
      await stream.close();
    })()));
  });

  return app;
}

function eventFilter(c: Context, now: number): EventFilter {
  try {
    return eventFilterOf({ service: c.req.query('service'), kind: c.req.query('kind'), since: c.req.query('since'), until: c.req.query('until') }, now);
  } catch (e) {
    throw new ApiError(400, 'bad_request', (e as Error).message);
  }
}

// ------------------------------------------------------------------------------ wiring

/** What the daemon exposes to the API; all reads, taken at request time. */
export interface DaemonView {
  config: () => ResolvedConfig;
  /** The daemon's own open store (reads interleave with passes; both are synchronous). */
  store: Store;
  /**
   * Where status, tickets and debug read: the store, or the daemon's memory once the store was
   * found damaged (absent: the store).
   */
  reads?: () => ReadSide;
  /** The store was found damaged while running (daemon/damage.ts); null while it was not. */
  damaged?: () => DamagedJson | null;
  now: () => Millis;
  /** Time of the last completed pass; 0 before the first. */
  lastPassAt: () => Millis;
  /** False once the daemon drains or stops. */
  running: () => boolean;
  summary: () => Summary;
  /** Passes are failing (daemon/self.ts); null while they succeed. */
  failing?: () => PassFailure | null;
  /** Live observation of one service (known to be in the inventory). */
  observe: (name: string, logLines: number) => {
    process: ProcessState | null; checks: CheckState[]; logTail: string[]; logSource: string | null; pod?: PodJson | null;
    /** Its host's resources (diagnosis/gather.ts problemResources); absent: not read. */
    resources?: HostResources | null;
  };
  /** Live check states of one service (status shows the last and next check). */
  checks?: (name: string) => CheckState[];
  metrics: WardenMetrics;
  /** The daemon's event streams: stopped before the server closes. */
  followers?: Followers;
  /** Takes one Alertmanager delivery (loop/alerts.ts) and wakes the loop. */
  alerts?: (incoming: IncomingAlert[]) => AlertReceipt;
  /** Named tokens, read at start and on reload. */
  named?: () => readonly NamedToken[];
  /** Approve and reject from afar (daemon/decisions.ts). */
  decisions?: DecisionDeps;
}

/**
 * ApiDeps over a running daemon: the same builders the CLI uses, fed live observations. Pass the
 * token as a function to pick up a new one on reload (SIGHUP) without restarting the server.
 */
export function daemonApiDeps(d: DaemonView, token: string | (() => string | null)): ApiDeps {
  const reads = (): ReadSide => d.reads?.() ?? d.store;
  return {
    token: typeof token === 'function' ? token : () => token,
    healthy: () => {
      const last = d.lastPassAt();
      return { ...progressVerdict(d.running(), last, d.now(), d.config().agent.intervalMs, d.failing?.() ?? null, d.damaged?.()?.reason ?? null), lastPassAt: last > 0 ? new Date(last).toISOString() : null };
    },
    status: () => apiStatus({
      config: d.config(), store: reads(), now: d.now(), live: { pid: process.pid, lastPassAt: d.lastPassAt(), summary: d.summary(), failing: d.failing?.() ?? null },
      damaged: d.damaged?.() ?? null,
      ...(d.checks ? { checks: d.checks } : {}),
    }),
    tickets: (q) => reads().listTickets({
      ...(q.status ? { statuses: [q.status] } : {}), openOnly: !q.all && !q.status, limit: q.limit,
    }).map(ticketJson),
    services: () => d.config().services.map((s) => s.name),
    diagnostics: (name, q) => {
      const cfg = d.config();
      const spec = cfg.services.find((s) => s.name === name);
      if (!spec) return null;
      const o = d.observe(name, q.lines);
      return diagnosticsBundle({
        config: cfg, spec, store: reads(), process: o.process, checks: o.checks, logTail: o.logTail, logSource: o.logSource, pod: o.pod ?? null,
        resources: o.resources ?? null, health: null, now: d.now(), damaged: d.damaged?.() ?? null,
      });
    },
    metrics: () => d.metrics.text(),
    metricsContentType: d.metrics.contentType,
    ...(d.followers ? { events: { source: d.store, followers: d.followers, now: d.now } } : {}),
    ...(d.alerts ? { alerts: d.alerts } : {}),
    ...(d.named ? { named: d.named } : {}),
    ...(d.decisions ? { decisions: d.decisions } : {}),
  };
}
