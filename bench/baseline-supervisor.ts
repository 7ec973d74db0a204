// The two baselines Warden is compared with, as a separate process (as Warden is one):
//   on-exit — restart on the child's 'exit' event, at once: the kernel/runtime floor, what systemd
//             Restart=always with RestartSec=0 would do without its timer grid;
//   poll    — Monit-style: look at the pid every `pollMs` (Monit's `set daemon 1` is 1 s) and
//             start the service again when it is gone.
// Usage: node baseline-supervisor.js on-exit|poll WEB_SCRIPT PORT REDIS_PORT [POLL_MS]
// Prints one JSON line per event ({ ev: 'spawn' | 'exit' | 'dead', pid, at }) for the bench.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { now } from './lib.js';

const [mode, script = '', port = '', redisPort = '', pollArg = '1000'] = process.argv.slice(2);
if ((mode !== 'on-exit' && mode !== 'poll') || !script || !port || !redisPort) {
  process.stderr.write('usage: baseline-supervisor on-exit|poll WEB_SCRIPT PORT REDIS_PORT [POLL_MS]\n');
  process.exit(2);
}
const emit = (ev: string, pid: number | undefined, extra: Record<string, unknown> = {}): void => {
  process.stdout.write(`${JSON.stringify({ ev, pid, at: now(), ...extra })}\n`);
};
const env = { ...process.env, PORT: port, REDIS_PORT: redisPort };

function start(): ChildProcess {
  // detached: its own process group, as Warden starts services, so the bench can kill it whole.
  const child = spawn(process.execPath, [script], { env, stdio: 'ignore', detached: true });
  emit('spawn', child.pid);
  return child;
}

if (mode === 'on-exit') {
  // The whole floor supervisor: restart the moment the runtime reports the exit.
  const supervise = (): void => {
    const child = start();
    child.on('exit', (code, signal) => {
      emit('exit', child.pid, { code, signal });
      supervise();
    });
  };
  supervise();
} else {
  // Monit: each cycle, is the pid still a live process? If not, run the start program.
  let pid = start().pid;
  const alive = (p: number | undefined): boolean => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      return state !== 'Z' && state !== 'X';
    } catch {
      return false;
    }
  };
  setInterval(() => {
    if (alive(pid)) return;
    emit('dead', pid);
    pid = start().pid;
  }, Number(pollArg));
}
