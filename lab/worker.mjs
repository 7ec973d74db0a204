// Lab worker: runs until a "poison" file appears next to it, then fails at every start (a crash loop
// a restart cannot fix: the input is bad). With STARTS_FILE set it appends one line per start, so
// tests can count exactly how many times it was started. SLOW_STOP=1 makes it ignore SIGTERM.
// With PORT set it answers HTTP 200 on that port (so a check can see it hang). While the file
// DISK_FULL_FILE exists it fails at start the way a service on a full disk does (ENOSPC).
import { appendFileSync, existsSync } from 'node:fs';
import http from 'node:http';

if (process.env.STARTS_FILE) appendFileSync(process.env.STARTS_FILE, `${Date.now()} ${process.pid}\n`);
if (process.env.DISK_FULL_FILE && existsSync(process.env.DISK_FULL_FILE)) {
  console.error('worker: write /var/lib/worker/journal failed: ENOSPC: no space left on device');
  setTimeout(() => process.exit(1), 100);
} else if (process.env.POISON_FILE && existsSync(process.env.POISON_FILE)) {
  console.error(`worker: fatal: cannot parse ${process.env.POISON_FILE}: unexpected token`);
  setTimeout(() => process.exit(1), 100);
} else {
  console.log(`worker started (pid ${process.pid})`);
  setInterval(() => {}, 1000);
  if (process.env.SLOW_STOP) process.on('SIGTERM', () => console.log('worker: ignoring SIGTERM'));
  if (process.env.PORT) http.createServer((_q, s) => s.end('working\n')).listen(Number(process.env.PORT), '127.0.0.1');
}
