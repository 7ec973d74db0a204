// Lab web service: answers /healthz with 200 only while its cache (a redis-server) answers PING.
// Used by the demo and the end-to-end tests; plain JS so it starts in ~30 ms.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';

const port = Number(process.env.PORT ?? 8080);
const redisPort = Number(process.env.REDIS_PORT ?? 6390);

// REDIS_PASSWORD: authenticate first (AUTH), as a service with credentials for its cache does.
const password = process.env.REDIS_PASSWORD;
// What went wrong talking to the cache, logged once each time it changes (as services log errors).
let lastProblem = null;
function note(problem) {
  if (problem !== null && problem !== lastProblem) console.error(`web: cache 127.0.0.1:${redisPort}: ${problem}`);
  lastProblem = problem;
}

function pingRedis(timeoutMs = 200) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: redisPort, noDelay: true });
    let reply = '';
    const done = (ok, problem) => { s.destroy(); note(ok ? null : problem); resolve(ok); };
    s.setTimeout(timeoutMs, () => done(false, `no reply within ${timeoutMs} ms`));
    s.once('error', (e) => done(false, `${e.code ?? 'error'}: ${e.message}`));
    s.once('connect', () => s.write(`${password ? `AUTH ${password}\r\n` : ''}PING\r\n`));
    s.on('data', (d) => {
      reply += d.toString();
      const err = /^-(.*)\r\n/m.exec(reply);
      if (err) done(false, err[1]);
      else if (reply.includes('+PONG')) done(true, null);
    });
  });
}

// UPSTREAM: URLs this service needs too, comma-separated (a chain or a diamond of services);
// /healthz fails while any of them does not answer 200.
const upstream = process.env.UPSTREAM;

function getOne(url, timeoutMs) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (r) => { r.resume(); resolve(r.statusCode === 200); });
    req.once('timeout', () => { req.destroy(); resolve(false); });
    req.once('error', () => resolve(false));
  });
}

async function getUpstream(timeoutMs = 200) {
  const answers = await Promise.all(upstream.split(',').map((u) => getOne(u.trim(), timeoutMs)));
  return answers.every(Boolean);
}

const server = http.createServer(async (req, res) => {
  if (req.url === '/healthz') {
    const ok = (redisPort ? await pingRedis() : true) && (upstream ? await getUpstream() : true);
    res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
    res.end(ok ? 'ok\n' : 'cache unavailable\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('hello from the lab\n');
});
// START_DELAY_MS: listen only after this long, like a service that loads its data before serving;
// START_DELAY_FILE: the same, read from a file when it exists (a fault can make the next start slow).
const delayFile = process.env.START_DELAY_FILE;
const startDelay = delayFile && existsSync(delayFile) ? Number(readFileSync(delayFile, 'utf8')) : Number(process.env.START_DELAY_MS ?? 0);
setTimeout(() => server.listen(port, '127.0.0.1', () => console.log(`web listening on ${port} (pid ${process.pid})`)), startDelay);
process.on('SIGTERM', () => { console.log('web: SIGTERM, closing'); server.close(() => process.exit(0)); setTimeout(() => process.exit(0), 500).unref(); });
