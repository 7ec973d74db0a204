import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ProbeSpec } from '../domain/types.js';
import { PROBE_TYPES, probes, runProbe } from './index.js';

test('the registry names every probe kind', () => {
  assert.deepEqual([...PROBE_TYPES].sort(), ['exec', 'file', 'filesystem', 'http', 'promql', 'tcp']);
  assert.equal(typeof probes.tcp.run, 'function');
});

test('runProbe dispatches by type', async (t) => {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { port } = server.address() as { port: number };
  assert.equal((await runProbe({ type: 'tcp', address: `127.0.0.1:${port}` }, 500)).ok, true);
  assert.equal((await runProbe({ type: 'exec', argv: ['true'], cwd: tmpdir() }, 500)).ok, true);
});

test('runProbe turns an unknown type into a failed result', async () => {
  const r = await runProbe({ type: 'smtp' } as unknown as ProbeSpec, 500);
  assert.equal(r.ok, false);
  assert.match(r.message, /unknown probe type "smtp"/);
});
