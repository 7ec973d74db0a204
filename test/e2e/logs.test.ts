// Log evidence, end to end: a foreign process holds web's port before Warden starts web. The
// diagnosis must quote the EADDRINUSE line, name the port and the holder's pid, and escalate
// instead of restarting a service that cannot listen until a person frees the port.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliJson, morePasses, startLab, startsOf, waitFor } from './harness.js';

interface Diag { rootCause: { service: string; cause: string }; evidence: { source: string; fact: string }[]; recommended: unknown[] }

test('a port held by a foreign process: one ticket quoting EADDRINUSE, naming port and holder, escalated', async (t) => {
  const run = await startLab({ noWorker: true });
  t.after(() => run.cleanup());
  const port = run.lab.ports.web;
  const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('holding'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { holder.kill('SIGKILL'); });
  await new Promise<void>((resolve, reject) => {
    holder.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('holding')) resolve(); });
    holder.once('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
  });

  await run.daemon.start();
  const ticket = await waitFor(async () => (await run.tickets()).find((x) => x.service === 'web' && x.status === 'escalated'), 20_000, 'web ticket escalated');
  const tickets = (await run.tickets()).filter((x) => x.service === 'web');
  assert.equal(tickets.length, 1, 'one ticket for web');
  assert.notEqual(ticket.cause, 'crash_loop');
  assert.equal(ticket.cause, 'config_drift');
  assert.match(ticket.reason ?? '', new RegExp(`port ${port} is held by pid ${holder.pid} \\(.*node -e.*\\): a restart cannot free it`));
  const shown = await cliJson<{ diagnosis: Diag }>(['tickets', 'show', ticket.id], run.lab.configPath);
  const d = shown.diagnosis;
  assert.deepEqual(d.recommended, []);
  const quote = d.evidence.find((e) => e.source === 'log');
  assert.ok(quote, 'the log line is evidence');
  assert.match(quote.fact, new RegExp(`^port ${port} already in use: ".*listen EADDRINUSE: address already in use 127\\.0\\.0\\.1:${port}"$`));
  assert.ok(d.evidence.some((e) => e.source === 'port' && e.fact.startsWith(`port ${port} is held by pid ${holder.pid} (`)), JSON.stringify(d.evidence));
  assert.equal(ticket.actionIds.length, 0, 'no repair was attempted');

  // No endless restarts: across several more passes, web is not started again.
  const starts = (): number => startsOf(join(run.lab.dir, 'data'), 'web');
  const before = starts();
  await morePasses(run.lab.configPath, 3);
  assert.equal(starts(), before, 'web was not started again');
  assert.equal((await run.tickets()).find((x) => x.id === ticket.id)?.status, 'escalated');
});
