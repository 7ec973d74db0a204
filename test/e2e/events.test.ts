// Following what happens, through the real CLI and API: `events -f --json` sees a kill's ticket at
// once, the SSE stream resumes after a seq without duplicates and ends cleanly when the daemon
// stops, `logs -f` sees a new line, and `audit list` filters select the right records.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { freePort } from '../../src/demo/lab.js';
import { cli, startLab, waitFor, WARDEN } from './harness.js';

interface Ev { seq: number; kind: string; subject: string | null; data: Record<string, unknown> }

/** A long-running CLI command whose stdout lines are collected as they come. */
function follow(args: string[]): { proc: ChildProcess; lines: string[]; stderr: () => string; exit: Promise<number | null> } {
  const proc = spawn(WARDEN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exit = new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  return { proc, lines, stderr: () => err, exit };
}

/** Reads SSE events from a stream until `enough` says stop (or the stream ends). */
async function readSse(res: Response, enough: (evs: { id: number; ev: Ev }[]) => boolean): Promise<{ events: { id: number; ev: Ev }[]; ended: boolean }> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  const events: { id: number; ev: Ev }[] = [];
  let buf = '';
  for (;;) {
    if (enough(events)) {
      await reader.cancel();
      return { events, ended: false };
    }
    const { done, value } = await reader.read();
    if (done) return { events, ended: true };
    buf += dec.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const id = /^id: (\d+)$/m.exec(block);
      const data = /^data: (.*)$/m.exec(block);
      if (id && data) events.push({ id: Number(id[1]), ev: JSON.parse(data[1]!) as Ev });
    }
  }
}

test('events -f, SSE /api/events, logs -f and audit list filters', async (t) => {
  const port = await freePort();
  const tokenFile = join(tmpdir(), `warden-token-events-${port}`);
  writeFileSync(tokenFile, 'ev-token\n', { mode: 0o600 });
  t.after(() => rmSync(tokenFile, { force: true }));
  const run = await startLab({ noWorker: true, api: { port, tokenFile } });
  t.after(() => run.cleanup());
  const config = run.lab.configPath;
  await run.daemon.start();
  await run.waitSettled(['cache', 'web']);

  // events -f --json: a kill shows as ticket.opened within a second.
  const ev = follow(['--config', config, 'events', '-f', '--json']);
  t.after(() => { ev.proc.kill('SIGKILL'); });
  await waitFor(async () => ev.lines.length > 0, 10_000, 'the backlog of events');
  const killedAt = performance.now();
  process.kill(run.pid('web'), 'SIGKILL');
  const opened = await waitFor(async () => ev.lines.map((l) => JSON.parse(l) as Ev).find((e) => e.kind === 'ticket.opened' && e.data.service === 'web'), 5_000, 'ticket.opened on the follower');
  assert.ok(performance.now() - killedAt < 1000, 'seen within a second of the kill');
  await waitFor(async () => (await run.tickets()).find((x) => x.id === opened.subject && x.status === 'resolved'), 15_000, 'web repaired');
  const seqs = ev.lines.map((l) => (JSON.parse(l) as Ev).seq);
  assert.deepEqual(seqs, [...new Set(seqs)].sort((a, b) => a - b), 'in order, no duplicates');
  ev.proc.kill('SIGINT');
  assert.equal(await ev.exit, 0, 'SIGINT ends it quietly');
  assert.equal(ev.stderr(), '');

  // SSE: the whole log, then resume after a seq (by ?after= and by Last-Event-ID) without duplicates.
  const base = `http://127.0.0.1:${port}/api/events`;
  const auth = { authorization: 'Bearer ev-token' };
  assert.equal((await fetch(base)).status, 401, 'bearer token required');
  const res1 = await fetch(`${base}?after=0`, { headers: auth });
  assert.equal(res1.headers.get('content-type'), 'text/event-stream');
  const first = await readSse(res1, (e) => e.length >= 6);
  assert.deepEqual(first.events.slice(0, 6).map((e) => e.id), [1, 2, 3, 4, 5, 6]);
  const head = Math.max(...seqs);
  const byQuery = await readSse(await fetch(`${base}?after=3`, { headers: auth }), (e) => e.some((x) => x.id >= head));
  assert.equal(byQuery.events[0]!.id, 4, 'resumes right after the seq');
  const ids = byQuery.events.map((e) => e.id);
  assert.deepEqual(ids, [...new Set(ids)].sort((a, b) => a - b), 'no duplicates');
  assert.deepEqual(byQuery.events.map((e) => e.ev.seq), ids, 'id is the seq');
  const byHeader = await readSse(await fetch(base, { headers: { ...auth, 'last-event-id': String(head - 1) } }), (e) => e.length >= 1);
  assert.equal(byHeader.events[0]!.id, head, 'Last-Event-ID resumes too');
  const filtered = await readSse(await fetch(`${base}?service=web&kind=ticket`, { headers: auth }), (e) => e.some((x) => x.ev.kind === 'ticket.opened'));
  assert.ok(filtered.events.every((e) => e.ev.kind.startsWith('ticket.')), 'kind filter');

  // logs: the tail, then -f sees a line appended to the service's log file.
  const logFile = join(run.lab.dir, 'data', 'logs', 'web.log');
  const tail = await cli(['logs', 'web', '--lines', '3'], { config });
  assert.equal(tail.code, 0, tail.stderr);
  const tailLines = tail.stdout.trimEnd().split('\n');
  assert.equal(tailLines.length, 3);
  // Every line of the service's own output carries the time the collector read it.
  assert.ok(tailLines.every((l) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /.test(l)), tail.stdout);
  const lf = follow(['--config', config, 'logs', 'web', '-f', '--lines', '1']);
  t.after(() => { lf.proc.kill('SIGKILL'); });
  await waitFor(async () => lf.lines.length >= 1, 10_000, 'the last log line');
  appendFileSync(logFile, 'a new line from the test\n');
  await waitFor(async () => lf.lines.includes('a new line from the test'), 5_000, 'logs -f to show the new line');
  lf.proc.kill('SIGINT');
  assert.equal(await lf.exit, 0);

  // audit list filters.
  const list = async (...args: string[]): Promise<Ev[]> => {
    const r = await cli(['audit', 'list', '--limit', '1000', '--json', ...args], { config });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Ev[];
  };
  const all = await list();
  const web = await list('--service', 'web');
  assert.ok(web.length > 0 && web.length < all.length);
  assert.ok(web.some((e) => e.kind === 'action.completed'), 'the service\'s actions are included');
  assert.ok(web.every((e) => e.data.service !== 'cache' && e.data.target !== 'cache' && e.subject !== 'cache'), 'nothing about another service');
  const tickets = await list('--service', 'web', '--kind', 'ticket');
  assert.ok(tickets.length > 0 && tickets.every((e) => e.kind.startsWith('ticket.')));
  assert.deepEqual((await list('--kind', 'ticket.opened')).map((e) => e.seq), [opened.seq]);
  assert.equal((await list('--since', '1h')).length, all.length);
  assert.equal((await list('--until', '2000-01-01T00:00:00Z')).length, 0);
  const bad = await cli(['audit', 'list', '--since', 'yesterday'], { config });
  assert.equal(bad.code, 2, 'a bad time is a usage error');

  // A follower outlives the daemon, and the SSE stream ends cleanly when it stops.
  const ev2 = follow(['--config', config, 'events', '-f', '--json', '--kind', 'agent']);
  t.after(() => { ev2.proc.kill('SIGKILL'); });
  await waitFor(async () => ev2.lines.length > 0, 10_000, 'the backlog of agent events');
  const open = await fetch(`${base}?after=${head}`, { headers: auth });
  const sse = readSse(open, () => false);
  await run.daemon.stop();
  const ended = await sse;
  assert.equal(ended.ended, true, 'the stream ended, not reset');
  await waitFor(async () => ev2.lines.some((l) => (JSON.parse(l) as Ev).kind === 'agent.stopped'), 5_000, 'agent.stopped on the follower');
  await run.daemon.start();
  await waitFor(async () => ev2.lines.filter((l) => (JSON.parse(l) as Ev).kind === 'agent.online').length >= 2, 10_000, 'the restarted daemon\'s agent.online');
  ev2.proc.kill('SIGINT');
  assert.equal(await ev2.exit, 0);
});
