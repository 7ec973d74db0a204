import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, constants, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, parseConfig } from '../../config/load.js';
import { file, MAX_READ_BYTES, type FileProbeSpec } from './file.js';
import { parsePasswd } from './users.js';

function dir(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'warden-file-probe-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const spec = (path: string, more: Partial<FileProbeSpec> = {}): FileProbeSpec => ({ type: 'file', path, exists: true, ...more });

test('file: present or absent, as asked', async (t) => {
  const d = dir(t);
  const f = join(d, 'flag');
  const missing = await file(spec(f), 1000);
  assert.deepEqual([missing.ok, missing.message], [false, `${f} does not exist`]);
  const absent = await file(spec(f, { exists: false }), 1000);
  assert.deepEqual([absent.ok, absent.message], [true, `${f} does not exist, as expected`]);
  writeFileSync(f, 'hello');
  const present = await file(spec(f), 1000);
  assert.deepEqual([present.ok, present.message, present.value], [true, `${f}: 5 bytes`, 5]);
  const unwanted = await file(spec(f, { exists: false }), 1000);
  assert.deepEqual([unwanted.ok, unwanted.message], [false, `${f} exists (expected it absent)`]);
  // A path through a file is as absent as a missing one.
  assert.equal((await file(spec(join(f, 'x'), { exists: false }), 1000)).ok, true);
});

test('file: age is measured from the mtime against the wall time given', async (t) => {
  const f = join(dir(t), 'heartbeat');
  writeFileSync(f, '');
  const mtime = new Date('2025-01-01T00:00:00Z');
  utimesSync(f, mtime, mtime);
  const at = (ms: number) => file(spec(f, { maxAgeMs: 5 * 60_000 }), 1000, mtime.getTime() + ms);
  assert.equal((await at(5 * 60_000)).ok, true);
  const stale = await at(10 * 60_000 + 500);
  assert.equal(stale.ok, false);
  assert.equal(stale.message, `${f}: last modified 10m0.5s ago (maxAge 5m)`);
  // An mtime in the future (a clock behind the writer's) is new, not negative.
  assert.equal((await at(-60_000)).ok, true);
});

test('file: size bounds, owner and mode, every failing condition named with what was seen', async (t) => {
  const f = join(dir(t), 'state');
  writeFileSync(f, 'x'.repeat(100));
  chmodSync(f, 0o640);
  const uid = process.getuid?.() ?? 0;
  const name = [...parsePasswd(readFileSync('/etc/passwd', 'utf8'))].find(([, id]) => id === uid)?.[0];
  assert.ok(name !== undefined, 'the test user has a name');

  const good = await file(spec(f, { minSize: 1, maxSize: 100, owner: name, mode: 0o640 }), 1000);
  assert.equal(good.ok, true, good.message);
  assert.equal((await file(spec(f, { owner: uid }), 1000)).ok, true);

  const bad = await file(spec(f, { minSize: 101, owner: uid + 1, mode: 0o600 }), 1000);
  assert.equal(bad.ok, false);
  assert.match(bad.message, new RegExp(`^${f}: 100 bytes \\(minSize 101\\); owned by ${name} \\(uid ${uid}\\) \\(owner .*uid ${uid + 1}\\)\\); mode 0640 \\(mode 0600\\)$`));
  assert.equal(bad.value, 100);
  assert.match((await file(spec(f, { maxSize: 99 }), 1000)).message, /: 100 bytes \(maxSize 99\)$/);

  const nobody = await file(spec(f, { owner: 'no-such-user-here' }), 1000);
  assert.equal(nobody.ok, false);
  assert.match(nobody.message, /owner "no-such-user-here" is not a user on this host \(not in \/etc\/passwd\); owned by /);
});

test('file: contains is a regex over the first MiB, and says so when the rest was not read', async (t) => {
  const d = dir(t);
  const f = join(d, 'status.txt');
  writeFileSync(f, 'role: leader\nterm: 7\n');
  assert.equal((await file(spec(f, { contains: '^role: leader$' }), 1000)).ok, false, 'no m flag: ^ and $ are the whole text');
  assert.equal((await file(spec(f, { contains: '/^role: leader$/m' }), 1000)).ok, true);
  const miss = await file(spec(f, { contains: 'follower' }), 1000);
  assert.deepEqual([miss.ok, miss.message], [false, `${f}: no match for follower`]);

  const big = join(d, 'big.log');
  writeFileSync(big, `${'x'.repeat(MAX_READ_BYTES)}needle`);
  const cut = await file(spec(big, { contains: 'needle' }), 1000);
  assert.equal(cut.ok, false);
  assert.equal(cut.message, `${big}: no match for needle in its first 1 MiB (of ${MAX_READ_BYTES + 6} bytes; the rest is not read)`);
  assert.equal((await file(spec(big, { contains: '^x+$' }), 1000)).ok, true);

  const unreadable = await file(spec(d, { contains: 'x' }), 1000);
  assert.equal(unreadable.ok, false);
  assert.match(unreadable.message, /^cannot read .*: EISDIR/);
});

test('file: a JSON field is compared, and is the value', async (t) => {
  const d = dir(t);
  const f = join(d, 'world.json');
  writeFileSync(f, JSON.stringify({ cluster: { leader: 'n2', members: [{ lag: 3, ok: true }, { lag: 40, ok: false }] }, 'raft.term': 7 }));
  const check = (json: FileProbeSpec['json']) => file(spec(f, { json }), 1000);

  const leader = await check({ path: 'cluster.leader', equals: 'n2', matches: '^n\\d$' });
  assert.deepEqual([leader.ok, leader.message, leader.value], [true, `${f}: cluster.leader is "n2"`, { 'cluster.leader': 'n2' }]);
  const lag = await check({ path: 'cluster.members[1].lag', max: 10 });
  assert.deepEqual([lag.ok, lag.message, lag.value], [false, `${f}: cluster.members[1].lag is 40 (max 10)`, { 'cluster.members[1].lag': 40 }]);
  assert.equal((await check({ path: 'cluster.members[0].lag', min: 0, max: 10 })).ok, true);
  assert.equal((await check({ path: '["raft.term"]', min: 8 })).message, `${f}: ["raft.term"] is 7 (min 8)`);
  const member = await check({ path: 'cluster.members[0]', equals: { ok: true, lag: 3 } });
  assert.deepEqual([member.ok, member.value], [true, { 'cluster.members[0]': '{"lag":3,"ok":true}' }]);
  assert.equal((await check({ path: 'cluster.members[1].ok', equals: true })).message, `${f}: cluster.members[1].ok is false (equals true)`);
  assert.equal((await check({ path: 'cluster.leader', min: 1 })).message, `${f}: cluster.leader is "n2", not a number (min needs one)`);
  assert.equal((await check({ path: 'cluster.members[2].lag' })).message, `${f}: has no field cluster.members[2].lag (no cluster.members[2])`);
  assert.equal((await check({ path: 'cluster.members' })).ok, true, 'a path alone: healthy while the field is there');

  writeFileSync(f, '{"half":');
  const torn = await check({ path: 'half' });
  assert.equal(torn.ok, false);
  assert.match(torn.message, /: is not JSON: /);
  assert.equal(torn.value, 8, 'without the field, the size');

  writeFileSync(f, `{"pad":"${'x'.repeat(MAX_READ_BYTES)}","ok":true}`);
  assert.match((await check({ path: 'ok' })).message, /: is \d+ bytes: only the first 1 MiB is read, so it is not parsed as JSON$/);
});

test('file: a read that hangs (a FIFO with no writer, like a dead mount) times out', async (t) => {
  const fifo = join(dir(t), 'fifo');
  execFileSync('mkfifo', [fifo]);
  const r = await file(spec(fifo, { contains: 'x' }), 100);
  assert.deepEqual([r.ok, r.timedOut, r.message], [false, true, 'timed out after 100 ms']);
  // The blocked open holds a libuv thread; a writer releases it so the test process can end.
  closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
});

test('file config: errors at their place, and a compiled spec with absolute path, bytes and mode', () => {
  const config = (check: string): string => `version: 1
agent: { name: otto }
services:
  - name: api
    start: [node, api.js]
    checks:
      - file: ${check}
`;
  const errs = (check: string): string[] => {
    try {
      parseConfig(config(check), '/srv/w.yaml');
    } catch (e) {
      assert.ok(e instanceof ConfigError);
      return e.issues.map((i) => `${i.line}:${i.col}: ${i.message}`);
    }
    return [];
  };
  assert.deepEqual(errs('{ path: ./a, mode: 0640 }'), ['7:34: services[0].checks[0].file.mode: expected the mode as a quoted octal string, e.g. "0640" (YAML reads an unquoted 0640 as the number 640); got 640']);
  assert.deepEqual(errs('{ path: ./a, mode: "0998" }'), ['7:34: services[0].checks[0].file.mode: expected an octal mode of 3 or 4 digits, e.g. "0640" or "1777"; got "0998"']);
  assert.deepEqual(errs('{ path: ./a, contains: "(" }'), ['7:38: services[0].checks[0].file.contains: invalid regular expression "(": Unterminated group']);
  assert.deepEqual(errs('{ path: ./a, json: { path: "a..b" } }'), ['7:42: services[0].checks[0].file.json.path: expected a key, [index] or ["key"] at character 3 of a..b']);
  assert.deepEqual(errs('{ path: ./a, exists: false, maxAge: 1m }'), ['7:36: services[0].checks[0].file.exists: exists: false says the file must be absent, so maxAge cannot be checked; drop it or exists: false']);
  assert.deepEqual(errs('{ path: ./a, minSize: 2KiB, maxSize: 1KiB }'), ['7:37: services[0].checks[0].file.minSize: minSize "2KiB" is more than maxSize "1KiB": no file could pass']);
  assert.deepEqual(errs('{ path: ./a, maxage: 1m }'), ['7:28: services[0].checks[0].file.maxage: unknown key (did you mean "maxAge"?); expected one of path, exists, maxAge, minSize, maxSize, owner, mode, contains, json']);

  const cfg = parseConfig(config('{ path: ./state.json, maxAge: 1m, maxSize: 1KiB, owner: root, mode: "640", json: { path: status, equals: ok } }'), '/srv/w.yaml');
  assert.deepEqual(cfg.services[0]?.checks[0]?.probe, {
    type: 'file', path: '/srv/state.json', exists: true, maxAgeMs: 60_000, maxSize: 1024, owner: 'root', mode: 0o640, json: { path: 'status', equals: 'ok' },
  });
});

test('file: a directory is a file for existence, owner and mode', async (t) => {
  const d = join(dir(t), 'spool');
  mkdirSync(d, { mode: 0o750 });
  chmodSync(d, 0o750);
  const r = await file(spec(d, { mode: 0o750 }), 1000);
  assert.equal(r.ok, true, r.message);
  assert.equal(r.value, statSync(d).size);
});
