// A stand-in for a hosted notification service in tests: a real HTTP server on loopback that
// records every request as the provider would receive it (method, path, headers, raw body) and
// answers as told: a status per request in turn, or not at all (a hung provider) until released.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface TestReceiver {
  url: string;
  received: Received[];
  /** Bodies parsed as JSON. */
  json<T = Record<string, unknown>>(): T[];
  /** Answer the next requests with these statuses (then `otherwise`). */
  answer(statuses: number[], body?: string): void;
  /** Every later request gets this status and body. */
  otherwise(status: number, body?: string): void;
  /** Hold every request unanswered until release(). */
  hang(): void;
  release(): void;
  close(): Promise<void>;
}

export async function startTestReceiver(): Promise<TestReceiver> {
  const received: Received[] = [];
  const queue: number[] = [];
  let queueBody = '';
  let status = 200;
  let body = '{"ok":true}';
  let hanging = false;
  const held: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => { raw += d.toString(); });
    req.on('end', () => {
      received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: raw });
      if (hanging) { held.push(res); return; }
      const s = queue.shift();
      res.writeHead(s ?? status, { 'content-type': 'application/json' }).end(s !== undefined ? queueBody : body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  const port = typeof a === 'object' && a ? a.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    json: <T>() => received.map((r) => JSON.parse(r.body) as T),
    answer(statuses, b = '') { queue.push(...statuses); queueBody = b; },
    otherwise(s, b = '') { status = s; body = b; },
    hang() { hanging = true; },
    release() {
      hanging = false;
      for (const res of held.splice(0)) if (!res.destroyed) res.writeHead(status).end(body);
    },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
