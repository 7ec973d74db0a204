// Lab rate-limiter node: one of three that share a Redis. GET /check?key=K allows at most LIMIT
// requests per key in any WINDOW_MS, decided atomically in Redis by one Lua script (a sliding
// window log: a sorted set of allow times per key). It is the subject under test for Warden's
// rate-limiter subject, so it has the faults of a real one on purpose, each behind an admin
// endpoint: a local cache that can go stale (ghost allowing, counters drifting between nodes), a
// limit changed at runtime on one node, added latency. See docs/subjects-ratelimiter-lab.md.
import { createHash } from 'node:crypto';
import http from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ping, RedisClient, RedisReplyError } from './resp.mjs';

const port = Number(process.env.PORT ?? 8090);
const redisHost = process.env.REDIS_HOST ?? '127.0.0.1';
const redisPort = Number(process.env.REDIS_PORT ?? 6390);
const node = process.env.NODE_ID ?? `node-${port}`;
const windowMs = positiveInt('WINDOW_MS', process.env.WINDOW_MS ?? '1000');
const hotKeys = positiveInt('HOT_KEYS', process.env.HOT_KEYS ?? '8');
const state = {
  limit: positiveInt('LIMIT', process.env.LIMIT ?? '10'),
  /** 0: every decision asks Redis. >0: the local cache is stale (see `decideStale`). */
  staleMs: nonNegativeInt('STALE_MS', process.env.STALE_MS ?? '0'),
  /** Added to every /check, to make latency faults without root (tc netem needs it). */
  delayMs: 0,
};

function positiveInt(name, text) {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) { console.error(`ratelimiter: ${name}=${JSON.stringify(text)} must be a positive integer`); process.exit(2); }
  return n;
}
function nonNegativeInt(name, text) {
  return text === '0' ? 0 : positiveInt(name, text);
}

// --- Redis: the shared, authoritative window -------------------------------------------------

// Redis's clock, not the nodes', stamps every entry: one clock for all nodes, so the window is
// exact however the nodes' clocks differ. Entries older than the window are dropped first; the
// entry that must expire before the next allow gives the retry time (there can be more than
// LIMIT entries after a stale node writes its allows back).
const CHECK = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return {1, n + 1, 0, now}
end
local edge = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
return {0, n, tonumber(edge[2]) + window - now, now}`;

// A stale node's write-back and refresh: adds the allows it made locally (score, member pairs),
// then returns Redis's time and the times in the window.
const SYNC = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if #ARGV > 1 then redis.call('PEXPIRE', KEYS[1], window) end
local out = {now}
local s = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 2, #s, 2 do out[#out + 1] = tonumber(s[i]) end
return out`;

// How many requests each key's window holds now, by Redis's clock (for /metrics).
const COUNT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i, k in ipairs(KEYS) do out[i] = redis.call('ZCOUNT', k, '(' .. (now - tonumber(ARGV[1])), '+inf') end
return out`;

const redis = new RedisClient({ host: redisHost, port: redisPort, timeoutMs: Number(process.env.REDIS_TIMEOUT_MS ?? 500) });
const sha = (script) => createHash('sha1').update(script).digest('hex');
const scripts = Object.fromEntries(Object.entries({ check: CHECK, sync: SYNC, count: COUNT }).map(([k, src]) => [k, { src, sha: sha(src) }]));

/** EVALSHA, falling back to EVAL when Redis does not know the script (it restarted: cache empty). */
async function run(script, keys, args) {
  try {
    return await redis.command(['EVALSHA', script.sha, keys.length, ...keys, ...args]);
  } catch (e) {
    if (!(e instanceof RedisReplyError) || !e.message.startsWith('NOSCRIPT')) throw e;
    return redis.command(['EVAL', script.src, keys.length, ...keys, ...args]);
  }
}

const redisKey = (key) => `rl:${key}`;
let seq = 0;
const member = () => `${node}:${process.pid}:${++seq}`;

// --- Local state: the cache that can go stale -------------------------------------------------

/** key → time (ms) until which Redis will deny it: answered locally, without a round trip. */
const deniedUntil = new Map();
/** Stale mode only: key → { times: Redis's window at the last sync, pending: local allows not yet written back, syncedAt, syncing }. */
const views = new Map();

/** Healthy path: Redis decides; a denial is cached until the retry time (only ever denies). */
async function decide(key) {
  const until = deniedUntil.get(key);
  const now = Date.now();
  if (until !== undefined && until > now) return { allowed: false, count: state.limit, retryAfterMs: until - now, at: now };
  const [ok, count, retryAfterMs, at] = await run(scripts.check, [redisKey(key)], [windowMs, state.limit, member()]);
  if (!ok) deniedUntil.set(key, Date.now() + retryAfterMs);
  else deniedUntil.delete(key);
  return { allowed: ok === 1, count, retryAfterMs, at };
}

// Stale path (the "corrupt counters" fault): the node decides from its own copy of the window,
// refreshed from Redis only every staleMs, and writes its allows back at the next refresh. Until
// then the other nodes cannot see them and it cannot see theirs: together they allow more than
// LIMIT (ghost allowing) and their counts drift apart.
async function decideStale(key) {
  let v = views.get(key);
  if (!v) { v = { times: [], pending: [], syncedAt: -Infinity, syncing: null }; views.set(key, v); }
  if (Date.now() - v.syncedAt >= state.staleMs) await syncView(key, v);
  const now = Date.now();
  const count = inWindow(v, now);
  if (count >= state.limit) return { allowed: false, count, retryAfterMs: 0, at: now };
  v.pending.push({ at: now, member: member() });
  return { allowed: true, count: count + 1, retryAfterMs: 0, at: now };
}

function inWindow(v, now) {
  const from = now - windowMs;
  return v.times.filter((t) => t > from).length + v.pending.filter((p) => p.at > from).length;
}

/** Writes the view's pending allows back and reloads the window (one sync per key at a time). */
function syncView(key, v) {
  v.syncing ??= (async () => {
    const pending = v.pending;
    try {
      const [, ...times] = await run(scripts.sync, [redisKey(key)], [windowMs, ...pending.flatMap((p) => [p.at, p.member])]);
      v.times = times;
      v.pending = v.pending.filter((p) => !pending.includes(p));
      v.syncedAt = Date.now();
    } finally {
      v.syncing = null;
    }
  })();
  return v.syncing;
}

/**
 * Writes every pending allow back, then drops all local state and leaves stale mode: the node asks
 * Redis again. Allows that cannot be written back (Redis down) are dropped and counted as lost.
 */
async function flush() {
  const entries = deniedUntil.size + views.size;
  let synced = 0;
  let lost = 0;
  for (const [key, v] of views) {
    const n = v.pending.length;
    if (n === 0) continue;
    try {
      await syncView(key, v);
      synced += n;
    } catch {
      lost += n;
    }
  }
  deniedUntil.clear();
  views.clear();
  state.staleMs = 0;
  return { flushed: entries, syncedAllows: synced, lostAllows: lost };
}

function cacheEntries() {
  const now = Date.now();
  for (const [k, t] of deniedUntil) if (t <= now) deniedUntil.delete(k);
  return deniedUntil.size + views.size;
}

// --- Metrics -----------------------------------------------------------------------------------

const registry = new Registry();
registry.setDefaultLabels({ node });
const requests = new Counter({ name: 'ratelimiter_requests_total', help: 'Checks answered, by decision (allowed, denied, error: Redis failed and the node denied).', labelNames: ['decision'], registers: [registry] });
for (const d of ['allowed', 'denied', 'error']) requests.inc({ decision: d }, 0);
const latency = new Histogram({ name: 'ratelimiter_check_duration_seconds', help: 'Time to answer a check, from request to response.', buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers: [registry] });
const redisErrors = new Counter({ name: 'ratelimiter_redis_errors_total', help: 'Redis commands that failed: not reachable, timed out, or an error reply.', registers: [registry] });
new Gauge({ name: 'ratelimiter_local_cache_entries', help: 'Keys with local state: cached denials, and stale views while the cache is stale.', registers: [registry], collect() { this.set(cacheEntries()); } });
new Gauge({ name: 'ratelimiter_limit', help: 'Requests allowed per key per window on this node (changed at runtime by POST /admin/limit).', registers: [registry], collect() { this.set(state.limit); } });
new Gauge({ name: 'ratelimiter_window_seconds', help: 'The window length.', registers: [registry], collect() { this.set(windowMs / 1000); } });
new Gauge({ name: 'ratelimiter_unsynced_allows', help: 'Allows made from the local cache and not yet written to Redis (0 unless the cache is stale).', registers: [registry], collect() { this.set([...views.values()].reduce((n, v) => n + v.pending.length, 0)); } });

// Allows per key per window, by the decision's own time, in windows aligned to the epoch (the load
// generator uses the same windows): summed over the nodes, more than the limit is ghost allowing.
const byWindow = new Map(); // window start (ms) → Map(key → { requests, allowed })
const SETTLE_MS = 100; // a window is reported once every decision made in it has been answered
function record(key, at, allowed) {
  const start = Math.floor(at / windowMs) * windowMs;
  let m = byWindow.get(start);
  if (!m) {
    m = new Map();
    byWindow.set(start, m);
    for (const s of byWindow.keys()) if (s < start - 2 * windowMs) byWindow.delete(s); // unscraped, it would grow
  }
  const c = m.get(key) ?? { requests: 0, allowed: 0 };
  c.requests++;
  if (allowed) c.allowed++;
  m.set(key, c);
}
function lastWindow() {
  const start = (Math.floor((Date.now() - SETTLE_MS) / windowMs) - 1) * windowMs;
  for (const s of byWindow.keys()) if (s < start) byWindow.delete(s);
  const keys = [...(byWindow.get(start) ?? new Map())].sort((a, b) => b[1].requests - a[1].requests).slice(0, hotKeys);
  return { start, keys };
}
new Gauge({ name: 'ratelimiter_window_start_seconds', help: 'Start (Unix time) of the window the per-key gauges report: the last complete one.', registers: [registry], collect() { this.set(lastWindow().start / 1000); } });
new Gauge({
  name: 'ratelimiter_allowed_in_window', help: `Allows this node made per key in the last complete window, for the ${hotKeys} keys it was asked most about.`, labelNames: ['key'], registers: [registry],
  collect() { this.reset(); for (const [key, c] of lastWindow().keys) this.set({ key }, c.allowed); },
});
// The key's count in the window as this node sees it now: Redis's for a healthy node, its own
// copy's for a stale one. Nodes disagreeing on a key is counter drift.
async function windowCounts(keys) {
  const now = Date.now();
  const counts = new Map();
  const shared = keys.filter((k) => !(state.staleMs > 0 && views.has(k)));
  for (const k of keys) if (!shared.includes(k)) counts.set(k, inWindow(views.get(k), now));
  if (shared.length) {
    try {
      const n = await run(scripts.count, shared.map(redisKey), [windowMs]);
      shared.forEach((k, i) => counts.set(k, n[i]));
    } catch {
      redisErrors.inc(); // no series for what cannot be seen
    }
  }
  return counts;
}
new Gauge({
  name: 'ratelimiter_window_count', help: `Requests in the key's window now, as this node sees it, for the ${hotKeys} keys it was asked most about.`, labelNames: ['key'], registers: [registry],
  async collect() {
    this.reset();
    for (const [key, n] of await windowCounts(lastWindow().keys.map(([k]) => k))) this.set({ key }, n);
  },
});

// --- HTTP --------------------------------------------------------------------------------------

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(`${JSON.stringify(body)}\n`);
}

async function check(key, res) {
  const end = latency.startTimer();
  if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs));
  try {
    const d = state.staleMs > 0 ? await decideStale(key) : await decide(key);
    const common = { limit: state.limit, windowMs, node, at: d.at };
    record(key, d.at, d.allowed);
    if (d.allowed) {
      requests.inc({ decision: 'allowed' });
      send(res, 200, { allowed: true, remaining: Math.max(0, state.limit - d.count), ...common });
    } else {
      requests.inc({ decision: 'denied' });
      send(res, 429, { allowed: false, remaining: 0, retryAfterMs: d.retryAfterMs, ...common }, { 'retry-after': String(Math.ceil(d.retryAfterMs / 1000)) });
    }
  } catch (e) {
    redisErrors.inc();
    requests.inc({ decision: 'error' });
    send(res, 503, { allowed: false, error: `cannot decide: ${e.message}`, node });
  } finally {
    end();
  }
}

/** The `value`/`ms` parameter of an admin call, or an error message. */
function intParam(url, name, min) {
  const text = url.searchParams.get(name);
  const n = Number(text);
  if (text === null || text === '' || !Number.isInteger(n) || n < min) return { error: `${name} must be an integer >= ${min}, e.g. ?${name}=${Math.max(min, 5)}` };
  return { value: n };
}

const admin = {
  async '/admin/limit'(url) {
    const p = intParam(url, 'value', 1);
    if (p.error) return [400, { error: p.error }];
    const previous = state.limit;
    state.limit = p.value;
    deniedUntil.clear(); // cached denials were decided under the old limit
    return [200, { node, limit: state.limit, previous }];
  },
  async '/admin/stale'(url) {
    const p = intParam(url, 'ms', 0);
    if (p.error) return [400, { error: p.error }];
    if (p.value === 0) return [200, { node, staleMs: 0, ...(await flush()) }];
    state.staleMs = p.value;
    deniedUntil.clear();
    return [200, { node, staleMs: state.staleMs }];
  },
  async '/admin/flush'() {
    return [200, { node, ...(await flush()) }];
  },
  async '/admin/reset'(url) {
    const key = url.searchParams.get('key');
    if (!key) return [400, { error: 'key is required, e.g. ?key=user-1' }];
    const removed = await redis.command(['DEL', redisKey(key)]);
    deniedUntil.delete(key);
    views.delete(key);
    return [200, { node, key, removed: removed === 1 }];
  },
  async '/admin/delay'(url) {
    const p = intParam(url, 'ms', 0);
    if (p.error) return [400, { error: p.error }];
    state.delayMs = p.value;
    return [200, { node, delayMs: state.delayMs }];
  },
};

function adminState() {
  return {
    node, limit: state.limit, windowMs, staleMs: state.staleMs, delayMs: state.delayMs,
    cacheEntries: cacheEntries(), redis: `${redisHost}:${redisPort}`, pid: process.pid,
  };
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  try {
    if (url.pathname === '/check' && req.method === 'GET') {
      const key = url.searchParams.get('key');
      if (!key) return send(res, 400, { error: 'key is required: GET /check?key=K' });
      return await check(key, res);
    }
    if (url.pathname === '/healthz') {
      const why = await ping(redisHost, redisPort, 200);
      res.writeHead(why ? 503 : 200, { 'content-type': 'text/plain' });
      return res.end(why ? `${node}: cannot reach Redis: ${why}\n` : `${node}: ok\n`);
    }
    if (url.pathname === '/metrics') {
      res.writeHead(200, { 'content-type': registry.contentType });
      return res.end(await registry.metrics());
    }
    if (url.pathname === '/admin/state') return send(res, 200, adminState());
    const op = admin[url.pathname];
    if (op && req.method === 'POST') {
      const [status, body] = await op(url);
      return send(res, status, body);
    }
    if (op) return send(res, 405, { error: `use POST ${url.pathname}` });
    return send(res, 404, { error: `no ${url.pathname}: try /check?key=K, /healthz, /metrics, /admin/state, POST ${Object.keys(admin).join(', ')}` });
  } catch (e) {
    redisErrors.inc(); // only the admin calls that reach Redis throw
    if (!res.headersSent) send(res, 503, { error: e.message, node });
  }
});

server.listen(port, '127.0.0.1', () => console.log(`ratelimiter ${node} listening on ${port} (pid ${process.pid}), redis ${redisHost}:${redisPort}, limit ${state.limit} per ${windowMs} ms`));
process.on('SIGTERM', () => {
  console.log(`ratelimiter ${node}: SIGTERM, closing`);
  redis.close();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
});
