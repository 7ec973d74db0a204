// Lab web service: answers /healthz with 200 only while its cache (a redis-server) answers PING.
// Used by the demo and the end-to-end tests; plain JS so it starts in ~30 ms.
import http from 'node:http';
import net from 'node:net';

const port = Number(process.env.PORT ?? 8080);
const redisPort = Number(process.env.REDIS_PORT ?? 6390);

function pingRedis(timeoutMs = 200) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: redisPort, noDelay: true });
    const done = (ok) => { s.destroy(); resolve(ok); };
    s.setTimeout(timeoutMs, () => done(false));
    s.once('error', () => done(false));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

// UPSTREAM: a URL this service needs too (a chain of services); /healthz fails while it does not answer 200.
const upstream = process.env.UPSTREAM;

function getUpstream(timeoutMs = 200) {
  return new Promise((resolve) => {
    const req = http.get(upstream, { timeout: timeoutMs }, (r) => { r.resume(); resolve(r.statusCode === 200); });
    req.once('timeout', () => { req.destroy(); resolve(false); });
    req.once('error', () => resolve(false));
  });
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
// START_DELAY_MS: listen only after this long, like a service that loads its data before serving.
const startDelay = Number(process.env.START_DELAY_MS ?? 0);
setTimeout(() => server.listen(port, '127.0.0.1', () => console.log(`web listening on ${port} (pid ${process.pid})`)), startDelay);
process.on('SIGTERM', () => { console.log('web: SIGTERM, closing'); server.close(() => process.exit(0)); setTimeout(() => process.exit(0), 500).unref(); });
