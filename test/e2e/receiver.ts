// A webhook receiver for tests: a real HTTP server on loopback that records every JSON event.
import { createServer, type Server } from 'node:http';

export interface Receiver {
  url: string;
  events: { kind: string; summary: string; subject: string | null; data: Record<string, unknown> }[];
  /** Answer the next n requests with this status instead of 204 (to exercise retries). */
  failNext(n: number, status: number): void;
  close(): Promise<void>;
}

export async function startReceiver(host = '127.0.0.1'): Promise<Receiver> {
  const events: Receiver['events'] = [];
  let failures = 0;
  let failStatus = 500;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d.toString(); });
    req.on('end', () => {
      if (failures > 0) { failures -= 1; res.writeHead(failStatus).end(); return; }
      try { events.push(JSON.parse(body) as Receiver['events'][number]); } catch { /* recorded as nothing */ }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, host, r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://${host}:${port}/hook`,
    events,
    failNext(n, status) { failures = n; failStatus = status; },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
