#!/usr/bin/env node
// Load generator for the lab rate limiter: offers a known rate of /check requests, open loop (each
// request is sent at its time whatever the answers do, so the offered rate is what was asked for),
// spread round robin over the nodes, with the keys taking turns so every key reaches every node.
// It counts allowed, denied and failed checks per key in windows aligned to the epoch, by the time
// each decision was made (the `at` the node returns), so a window here is a window of the limiter.
// Allowed beyond the limit in a window is ghost allowing, printed as its measured excess: one JSON
// line per window on stdout, then a summary line. See docs/subjects-ratelimiter-lab.md.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

const USAGE = `usage: node lab/loadgen.mjs --nodes HOST:PORT,... [options]

Offers a fixed rate of GET /check?key=K to rate-limiter nodes and measures, per window, how many
requests were allowed beyond the limit (ghost allowing). Prints one JSON line per window, then a
JSON summary line.

  --nodes H:P,...   the nodes, sent to in turn (required)
  --rate N          requests per second offered in total (default 100)
  --keys N|a,b,...  N keys named key-1..key-N, or these keys (default 1); they take turns
  --duration D      how long to offer load: 500ms, 5s, 1m (default 10s)
  --limit N         the limit to measure against (default: the one the nodes report)
  --window D        the window (default: the one the nodes report)
  --timeout D       a check not answered in this time counts as an error (default 1s)

A window line: {"type":"window","start","windowMs","limit","partial","offered","allowed",
"denied","errors","excess","keys":{K:{"allowed","denied","errors","excess"}}}; "excess" is the
sum over keys of allowed beyond the limit, "partial" marks the first and last windows, which the
run covers only in part.`;

function fail(msg) {
  process.stderr.write(`loadgen: ${msg}\n\n${USAGE}\n`);
  process.exit(2);
}

function duration(name, text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text ?? '');
  if (!m) fail(`${name} ${JSON.stringify(text)} is not a duration: use e.g. 500ms, 5s, 1m`);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] ?? 'ms'];
}

function positive(name, text) {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) fail(`${name} ${JSON.stringify(text)} must be a positive number`);
  return n;
}

function parseArgs(argv) {
  const o = { rate: 100, keys: ['key-1'], durationMs: 10_000, limit: null, windowMs: null, timeoutMs: 1000, nodes: null };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--help' || flag === '-h') { process.stdout.write(`${USAGE}\n`); process.exit(0); }
    const v = argv[++i];
    if (v === undefined) fail(`${flag} needs a value`);
    switch (flag) {
      case '--nodes': o.nodes = v.split(',').filter(Boolean); break;
      case '--rate': o.rate = positive(flag, v); break;
      case '--keys': o.keys = /^\d+$/.test(v) ? Array.from({ length: positive(flag, v) }, (_, k) => `key-${k + 1}`) : v.split(',').filter(Boolean); break;
      case '--duration': o.durationMs = duration(flag, v); break;
      case '--limit': o.limit = positive(flag, v); break;
      case '--window': o.windowMs = duration(flag, v); break;
      case '--timeout': o.timeoutMs = duration(flag, v); break;
      default: fail(`unknown option ${flag}`);
    }
  }
  if (!o.nodes?.length) fail('--nodes is required');
  for (const n of o.nodes) if (!/^[^:]+:\d+$/.test(n)) fail(`node ${JSON.stringify(n)} is not HOST:PORT`);
  if (!o.keys.length) fail('--keys names no key');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** One check: { status: 'allowed'|'denied'|'error', at, limit, windowMs, ms, reason }. */
function check(node, key) {
  const [host, port] = node.split(':');
  const t0 = performance.now();
  return new Promise((resolve) => {
    const done = (r) => resolve({ ms: performance.now() - t0, at: Date.now(), ...r });
    const req = http.get({ host, port: Number(port), path: `/check?key=${encodeURIComponent(key)}`, agent, timeout: opts.timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => {
        let body = {};
        try { body = JSON.parse(text); } catch { /* reported below as an error */ }
        const at = typeof body.at === 'number' ? { at: body.at } : {};
        const meta = { ...at, limit: body.limit, windowMs: body.windowMs };
        if (res.statusCode === 200 && body.allowed === true) done({ status: 'allowed', ...meta });
        else if (res.statusCode === 429) done({ status: 'denied', ...meta });
        else done({ status: 'error', reason: `HTTP ${res.statusCode}: ${body.error ?? text.trim().slice(0, 200)}` });
      });
      res.on('error', (e) => done({ status: 'error', reason: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', (e) => done({ status: 'error', reason: e.code ?? e.message }));
  });
}

// --- Counting ---------------------------------------------------------------------------------

let windowMs = opts.windowMs;
const unbucketed = []; // results that arrived before the window length was known
const windows = new Map(); // start (ms) → { limit, offered, keys: Map(key → counts) }
const byNode = Object.fromEntries(opts.nodes.map((n) => [n, { allowed: 0, denied: 0, errors: 0, lastError: null }]));
const latencies = [];
const totals = { allowed: 0, denied: 0, errors: 0, windows: 0, partialWindows: 0, ghostWindows: 0, excess: 0, maxExcess: 0, maxAllowedPerKey: 0 };
let firstSent = null;
let lastSent = null;
let lastLimit = null;

function count(node, key, r) {
  latencies.push(r.ms);
  const n = byNode[node];
  if (r.status === 'error') { n.errors++; n.lastError = r.reason; } else n[r.status]++;
  if (!windowMs && r.windowMs) windowMs = r.windowMs;
  if (!windowMs) { unbucketed.push([key, r]); return; }
  for (const [k, x] of unbucketed.splice(0)) bucket(k, x);
  bucket(key, r);
}

function bucket(key, r) {
  const start = Math.floor(r.at / windowMs) * windowMs;
  let w = windows.get(start);
  if (!w) { w = { limit: null, offered: 0, keys: new Map() }; windows.set(start, w); }
  if (typeof r.limit === 'number') w.limit = Math.max(w.limit ?? 0, r.limit); // a limit raised mid-window is not ghost allowing
  w.offered++;
  const c = w.keys.get(key) ?? { allowed: 0, denied: 0, errors: 0 };
  c[r.status === 'error' ? 'errors' : r.status]++;
  w.keys.set(key, c);
}

/** Prints, in order, every window that ended before `until` (ms). */
function emit(until) {
  for (const start of [...windows.keys()].sort((a, b) => a - b)) {
    if (start + windowMs > until) break;
    const w = windows.get(start);
    windows.delete(start);
    const limit = opts.limit ?? w.limit ?? lastLimit;
    if (limit !== null) lastLimit = limit;
    const keys = {};
    const sum = { allowed: 0, denied: 0, errors: 0, excess: 0 };
    for (const [k, c] of [...w.keys].sort()) {
      const excess = limit === null ? 0 : Math.max(0, c.allowed - limit);
      keys[k] = { ...c, excess };
      for (const f of ['allowed', 'denied', 'errors', 'excess']) sum[f] += f === 'excess' ? excess : c[f];
      totals.maxAllowedPerKey = Math.max(totals.maxAllowedPerKey, c.allowed);
    }
    const partial = firstSent === null || start < firstSent || start + windowMs > lastSent;
    totals.windows++;
    if (partial) totals.partialWindows++;
    if (sum.excess > 0) totals.ghostWindows++;
    totals.excess += sum.excess;
    totals.maxExcess = Math.max(totals.maxExcess, sum.excess);
    for (const f of ['allowed', 'denied', 'errors']) totals[f] += sum[f];
    process.stdout.write(`${JSON.stringify({ type: 'window', start: new Date(start).toISOString(), windowMs, limit, partial, offered: w.offered, ...sum, keys })}\n`);
  }
}

// --- Offering the load ------------------------------------------------------------------------

const intervalMs = 1000 / opts.rate;
const total = Math.max(1, Math.floor(opts.durationMs / intervalMs));
let sent = 0;
const inflight = new Set();
const t0 = performance.now();

function sendDue() {
  const due = Math.min(total, Math.floor((performance.now() - t0) / intervalMs) + 1);
  for (; sent < due; sent++) {
    const node = opts.nodes[sent % opts.nodes.length];
    const key = opts.keys[Math.floor(sent / opts.nodes.length) % opts.keys.length];
    const now = Date.now();
    firstSent ??= now;
    lastSent = now;
    const p = check(node, key).then((r) => { count(node, key, r); inflight.delete(p); });
    inflight.add(p);
  }
  if (sent < total) setTimeout(sendDue, Math.max(0, t0 + sent * intervalMs - performance.now()));
  else void finish();
}

// A window is printed once every check that could have been decided in it has been answered.
const ticker = setInterval(() => { if (windowMs) emit(Date.now() - opts.timeoutMs - 100); }, 100);

async function finish() {
  const spanMs = Math.max(1, performance.now() - t0);
  while (inflight.size) await Promise.all([...inflight]);
  clearInterval(ticker);
  agent.destroy();
  if (windowMs) emit(Infinity);
  latencies.sort((a, b) => a - b);
  const pct = (q) => (latencies.length ? Number(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(2)) : null);
  process.stdout.write(`${JSON.stringify({
    type: 'summary', nodes: opts.nodes, keys: opts.keys.length, rate: opts.rate, durationMs: opts.durationMs,
    sent, offeredRate: Number(((sent - 1) / (spanMs / 1000)).toFixed(1)), windowMs, limit: opts.limit ?? lastLimit, ...totals,
    byNode, latencyMs: { p50: pct(0.5), p99: pct(0.99), max: latencies.length ? Number(latencies.at(-1).toFixed(2)) : null },
  })}\n`);
}

sendDue();
