// Lab journal service: appends a segment file to DATA_DIR every TICK_MS and answers /healthz with
// 200 while its last write succeeded (503 with the error otherwise), so a full disk, exhausted
// inodes or exhausted file descriptors show as they would in a real service: a failing check and
// the errno in its log (each distinct error logged once). While the file LEAK_FILE exists it
// removes it and leaks memory until it dies (one bad request; the next start is clean).
import { existsSync, mkdirSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';

const dir = process.env.DATA_DIR ?? '/tmp/journal';
const tick = Number(process.env.TICK_MS ?? 100);
const size = Number(process.env.SEGMENT_BYTES ?? 16384);
const keep = Number(process.env.KEEP ?? 4);
const leakFile = process.env.LEAK_FILE;
mkdirSync(dir, { recursive: true });
let n = Date.now();
let lastError = null;
let logged = null;
const leak = [];

function write() {
  if (leakFile && existsSync(leakFile)) {
    unlinkSync(leakFile);
    console.log('journal: request with an unbounded result set; buffering it');
    for (;;) leak.push(new Array(1e6).fill(Math.random()));
  }
  const file = join(dir, `seg-${n++}`);
  try {
    writeFileSync(file, Buffer.alloc(size, 1));
    const segs = readdirSync(dir).filter((f) => f.startsWith('seg-')).sort();
    for (const f of segs.slice(0, Math.max(0, segs.length - keep))) rmSync(join(dir, f), { force: true });
    lastError = null;
  } catch (e) {
    lastError = `write ${file} failed: ${e.message}`;
    rmSync(file, { force: true });
    if (logged !== e.code) console.error(`journal: ${lastError}`);
    logged = e.code;
    return;
  }
  logged = null;
}

setInterval(write, tick);
write();
http.createServer((req, res) => {
  const ok = lastError === null;
  res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
  res.end(ok ? 'ok\n' : `${lastError}\n`);
}).listen(Number(process.env.PORT ?? 8090), '127.0.0.1', () => console.log(`journal listening on ${process.env.PORT} (pid ${process.pid}), writing ${dir}`));
process.on('SIGTERM', () => process.exit(0));
