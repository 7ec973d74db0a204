// The floor for bench/steady.ts: the least a Node supervisor of N children can cost. It starts N
// `sleep infinity` children the way Warden starts a `kind: process` service (detached: own session
// and process group) and then only listens for their 'exit' events. Nothing is polled, nothing is
// written. What is left is Node holding N ChildProcess handles, and libuv's SIGCHLD handling.
// Usage: node dist/bench/steady-floor.js N
// Prints JSON lines: { ev: 'ready', pids, at } once all N are spawned, then { ev: 'exit', pid, at }
// per child exit (bench clock: lib.ts `now()`).
import { spawn } from 'node:child_process';
import { now } from './lib.js';

const n = Number(process.argv[2]);
if (!Number.isInteger(n) || n < 1) {
  process.stderr.write('usage: steady-floor N\n');
  process.exit(2);
}
const emit = (o: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ ...o, at: now() })}\n`);
};

const pids: number[] = [];
for (let i = 0; i < n; i++) {
  const child = spawn('sleep', ['infinity'], { stdio: 'ignore', detached: true });
  if (child.pid === undefined) {
    process.stderr.write(`steady-floor: spawn ${i + 1} of ${n} failed\n`);
    process.exit(1);
  }
  pids.push(child.pid);
  child.on('exit', () => emit({ ev: 'exit', pid: child.pid }));
  // Let exit events run during a long spawn loop, as a supervisor would.
  if (i % 100 === 99) await new Promise((r) => setImmediate(r));
}
emit({ ev: 'ready', pids });
// Nothing else to do: the 'exit' listeners keep the process alive.
