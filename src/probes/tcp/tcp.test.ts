import { spawn } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddress } from '../../lib/address.js';
import { tcp } from './tcp.js';

test('parseAddress takes host:port and [v6]:port', () => {
  assert.deepEqual(parseAddress('127.0.0.1:6390'), { host: '127.0.0.1', port: 6390 });
  assert.deepEqual(parseAddress('[::1]:80'), { host: '::1', port: 80 });
  assert.equal(parseAddress('localhost'), null);
  assert.equal(parseAddress('h:70000'), null);
});

test('tcp probe is ok when the port accepts', async (t) => {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { port } = server.address() as { port: number };
  const r = await tcp({ type: 'tcp', address: `127.0.0.1:${port}` }, 1000);
  assert.equal(r.ok, true, r.message);
  assert.equal(r.timedOut, false);
  assert.match(r.message, /^connected to 127\.0\.0\.1:\d+$/);
});

test('tcp probe reports a refused connection', async () => {
  // Bind and close to get a port that nobody listens on.
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  const r = await tcp({ type: 'tcp', address: `127.0.0.1:${port}` }, 1000);
  assert.equal(r.ok, false);
  assert.equal(r.timedOut, false);
  assert.equal(r.message, `connect ECONNREFUSED 127.0.0.1:${port}`);
});

test('tcp probe reports an invalid address without throwing', async () => {
  const r = await tcp({ type: 'tcp', address: 'nonsense' }, 100);
  assert.equal(r.ok, false);
  assert.match(r.message, /invalid address/);
});

test('tcp probe times out on a hung listener', async (t) => {
  // A SIGSTOPped server whose accept queue (backlog 1) is full: the kernel drops further SYNs,
  // so a connect hangs — the way a wedged process looks from outside.
  const child = spawn(process.execPath, ['-e',
    "const s=require('net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>console.log(s.address().port))"],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const port = await new Promise<number>((r) => child.stdout.once('data', (d) => r(Number(String(d)))));
  child.kill('SIGSTOP');
  const fillers: Socket[] = [];
  t.after(() => fillers.forEach((s) => s.destroy()));
  for (let i = 0; i < 8; i++) {
    const s = connect(port, '127.0.0.1');
    fillers.push(s);
    const connected = await new Promise<boolean>((r) => {
      s.once('connect', () => r(true));
      setTimeout(() => r(false), 200);
    });
    if (!connected) break;
  }
  const r = await tcp({ type: 'tcp', address: `127.0.0.1:${port}` }, 300);
  assert.equal(r.ok, false);
  assert.equal(r.timedOut, true);
  assert.equal(r.message, 'timed out after 300 ms');
  assert.ok(r.latencyMs >= 299 && r.latencyMs < 600, String(r.latencyMs));
});

/** A real redis-server on a free port, killed when the test ends. */
async function redis(t: { after(fn: () => void): void }): Promise<{ port: number; pid: number }> {
  const free = createServer();
  await new Promise<void>((r) => free.listen(0, '127.0.0.1', r));
  const { port } = free.address() as { port: number };
  await new Promise((r) => free.close(r));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => { child.kill('SIGCONT'); child.kill('SIGKILL'); });
  await new Promise<void>((r) => { child.stdout.on('data', (d) => { if (String(d).includes('Ready to accept')) r(); }); });
  return { port, pid: child.pid! };
}

test('tcp probe with send/expect is ok when the server answers', async (t) => {
  const { port } = await redis(t);
  const r = await tcp({ type: 'tcp', address: `127.0.0.1:${port}`, send: 'PING\r\n', expect: '+PONG' }, 1000);
  assert.equal(r.ok, true, r.message);
  assert.equal(r.message, `127.0.0.1:${port} answered "+PONG"`);
});

test('tcp probe with send/expect fails on a stopped server that still accepts', async (t) => {
  const { port, pid } = await redis(t);
  process.kill(pid, 'SIGSTOP');
  // A bare connect still succeeds: the kernel completes it on the listen backlog.
  const bare = await tcp({ type: 'tcp', address: `127.0.0.1:${port}` }, 300);
  assert.equal(bare.ok, true, bare.message);
  const r = await tcp({ type: 'tcp', address: `127.0.0.1:${port}`, send: 'PING\r\n', expect: '+PONG' }, 300);
  assert.equal(r.ok, false);
  assert.equal(r.timedOut, true);
});

test('tcp probe with expect fails when the reply differs and the server closes', async (t) => {
  const server = createServer((s) => { s.on('error', () => undefined); s.end('-ERR no\r\n'); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { port } = server.address() as { port: number };
  const r = await tcp({ type: 'tcp', address: `127.0.0.1:${port}`, send: 'PING\r\n', expect: '+PONG' }, 1000);
  assert.equal(r.ok, false);
  assert.equal(r.timedOut, false);
  assert.equal(r.message, `127.0.0.1:${port} closed without "+PONG", got "-ERR no\\r\\n"`);
});
