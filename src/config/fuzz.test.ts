// Config fuzzing: thousands of mutations of real configs (warden init's template, the demo lab, a
// file sharing settings through anchors), each validated as `warden validate` does it. Whatever the
// text, validation must end in exit 0 (valid) or exit 2 (a ConfigError whose every issue has a
// position), within a second and 100 MB. Seeded, so a failure is reproduced by its seed and index;
// WARDEN_FUZZ_COUNT and WARDEN_FUZZ_SEED run it longer or elsewhere (docs/reliability.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labConfig } from '../demo/lab.js';
import { ConfigError, parseConfig } from './load.js';
import { preflightIssues } from './preflight.js';
import { exampleConfig } from './template.js';

const COUNT = Number(process.env.WARDEN_FUZZ_COUNT ?? 10_000);
const SEED = Number(process.env.WARDEN_FUZZ_SEED ?? 0x5eed);
const MAX_MS = 1_000;
const MAX_HEAP = 100 * 1024 * 1024;

const ANCHORED = `version: 1
agent: { name: fleet, mode: execute }
services:
  - &base { name: web-1, start: [node, web.js], env: &env { PORT: "8080" }, stopGrace: 1s, checks: [ { tcp: { address: "127.0.0.1:8080" } } ] }
  - { <<: *base, name: web-2, env: { <<: *env, PORT: "8081" } }
  - { <<: [*base], name: web-3, dependsOn: [web-1, web-2] }
notify:
  - { name: ops, webhook: { url: "http://127.0.0.1:9/" }, events: [ticket.opened, ticket.escalated] }
policy:
  rules:
    - { match: { service: "web-*" }, allow: [start, restart] }
    - { match: { service: web-3 }, allow: [restart], approval: required }
`;

/** Without its comments: they are most of the template's text, and lexing them is most of the time. */
const uncommented = (text: string): string => text.split('\n').filter((l) => !/^\s*#/.test(l)).map((l) => l.replace(/\s+#.*$/, '')).join('\n');

const SAMPLES = [
  uncommented(exampleConfig()),
  labConfig('/tmp/warden-fuzz-lab', { web: 8080, cache: 6390, worker: 8081 }, {}),
  labConfig('/tmp/warden-fuzz-lab', { web: 8080, cache: 6390, worker: 8081 }, {
    api: { port: 7070, tokenFile: '/tmp/warden-fuzz-lab/token' }, notifyUrl: 'http://127.0.0.1:9/hook', workerHttp: true,
  }),
  ANCHORED,
];

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const bomb = (levels: number): string => {
  const lines = ['b0: &b0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < levels; i++) lines.push(`b${i}: &b${i} [${Array(10).fill(`*b${i - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\n`;
};

// What YAML and this schema treat specially, and what was found to crash or stall validation.
const SPECIALS = [
  '&a ', '*a', '<<: ', '<<: *a', '<<: 5', '<<: [*a, 1]', '!!str ', '!!binary ', '!!map ', '!custom ', '? ', ': ', '- ',
  '{', '}', '[', ']', '"', "'", '|', '>', '#', '\t', '---\n', '...\n', '%YAML 1.2\n', '~', 'null', '.inf', '1e999',
  '0x1F', '\0', '"\\0"', 'x'.repeat(20_000), `name: ${'n'.repeat(20_000)}`, `dependsOn: [${'n'.repeat(19_999)}m]`,
  '[[[[[[[[[[[[[[[[', '*a*a*a*a*a*a*a*a*a*a*a*b', `checks: [ { interval: 1s } ]`, '__proto__: ', 'constructor: ',
];

function mutate(text: string, rnd: () => number): string {
  const at = (n: number): number => Math.floor(rnd() * n);
  let t = text;
  for (let k = 1 + at(4); k > 0; k--) {
    const p = at(t.length + 1);
    const r = rnd();
    if (r < 0.15) {
      t = t.slice(0, p) + t.slice(p + 1 + at(8));
    } else if (r < 0.45) {
      t = t.slice(0, p) + (SPECIALS[at(SPECIALS.length)] ?? '') + t.slice(p);
    } else if (r < 0.58) {
      const q = at(t.length);
      t = t.slice(0, p) + t.slice(q, q + at(60)) + t.slice(p);
    } else if (r < 0.72) {
      const lines = t.split('\n');
      const i = at(lines.length);
      const j = at(lines.length);
      [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
      t = lines.join('\n');
    } else if (r < 0.8) {
      // A line repeated: duplicate keys, duplicate names, a second anchor of the same name.
      const lines = t.split('\n');
      const i = at(lines.length);
      lines.splice(i, 0, lines[i] ?? '');
      t = lines.join('\n');
    } else if (r < 0.83) {
      t = bomb(2 + at(9)) + t;
    } else {
      t = t.slice(0, p) + String.fromCharCode(r < 0.97 ? 32 + at(95) : at(32)) + t.slice(p);
    }
  }
  return t;
}

interface Outcome { exit: 0 | 2 | 'crash'; unpositioned: number; ms: number; heap: number; detail: string }

/** What `warden validate` would do with this text: the loader, then the pre-flight on a valid config. */
function validate(text: string): Outcome {
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  let exit: Outcome['exit'] = 0;
  let unpositioned = 0;
  let detail = '';
  try {
    preflightIssues(parseConfig(text, '/tmp/warden-fuzz/warden.yaml'));
  } catch (e) {
    if (e instanceof ConfigError) {
      exit = 2;
      unpositioned = e.issues.filter((i) => !(i.line >= 1 && i.col >= 1)).length + (e.issues.length === 0 ? 1 : 0);
      detail = e.message.slice(0, 200);
    } else {
      exit = 'crash';
      detail = e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 200) : String(e);
    }
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { exit, unpositioned, ms, heap: process.memoryUsage().heapUsed - heap0, detail };
}

test(`${COUNT} mutated configs: exit 0 or 2 only, a position on every error, < 1 s and < 100 MB each`, async (t) => {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => void warnings.push(w.message);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));

  const cpu0 = process.cpuUsage();
  const rnd = prng(SEED);
  const failures: string[] = [];
  const tally = { valid: 0, invalid: 0, crashes: 0, unpositioned: 0, slow: 0, heavy: 0, maxMs: 0, maxHeap: 0 };
  for (let i = 0; i < COUNT; i++) {
    const text = mutate(SAMPLES[i % SAMPLES.length]!, rnd);
    const o = validate(text);
    if (o.exit === 0) tally.valid++;
    if (o.exit === 2) tally.invalid++;
    tally.maxMs = Math.max(tally.maxMs, o.ms);
    tally.maxHeap = Math.max(tally.maxHeap, o.heap);
    const wrong = [
      o.exit === 'crash' && (tally.crashes++, `crashed: ${o.detail}`),
      o.unpositioned > 0 && (tally.unpositioned++, `${o.unpositioned} issue(s) without a position: ${o.detail}`),
      o.ms >= MAX_MS && (tally.slow++, `took ${o.ms.toFixed(0)} ms`),
      o.heap >= MAX_HEAP && (tally.heavy++, `grew the heap by ${(o.heap / 2 ** 20).toFixed(0)} MB`),
    ].filter((w): w is string => typeof w === 'string');
    if (wrong.length > 0 && failures.length < 5) failures.push(`seed ${SEED} #${i} (${text.length} chars): ${wrong.join('; ')}\n${text.slice(0, 400)}`);
  }
  t.diagnostic(`config fuzz: ${COUNT} configs, seed ${SEED}: ${tally.valid} valid, ${tally.invalid} rejected, ${tally.crashes} crashes, `
    + `${tally.unpositioned} without position, ${tally.slow} over 1 s, ${tally.heavy} over 100 MB; `
    + `max ${tally.maxMs.toFixed(1)} ms, max heap growth ${(tally.maxHeap / 2 ** 20).toFixed(1)} MB; ${(process.cpuUsage(cpu0).user / 1e6).toFixed(1)} s CPU`);
  assert.deepEqual(failures, []);
  await new Promise((done) => setImmediate(done)); // process warnings are emitted on the next tick
  assert.deepEqual(warnings, [], 'validation printed process warnings');
  // Mutations must reach both outcomes, or the fuzzer is only testing the YAML parser.
  assert.ok(tally.valid > COUNT / 50 && tally.invalid > COUNT / 2, `valid ${tally.valid}, invalid ${tally.invalid}`);
});
