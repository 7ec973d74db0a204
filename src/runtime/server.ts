// The API's listening side: HTTP, or HTTPS with the configured certificate; timeouts of seconds so
// slow or idle clients cannot pin sockets (every endpoint answers in milliseconds); and a cap on
// open connections past which a request gets 503 at once instead of a file descriptor for as long
// as the client likes. Descriptors are what Warden needs to start and restart services.
import { readFileSync } from 'node:fs';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { ApiSpec } from '../domain/types.js';
import { WardenError } from '../lib/errors.js';

/** How long a client may take, in milliseconds. */
export const API_LIMITS = {
  /** From connecting (or the TLS handshake) to the end of the request headers: slowloris ends here. */
  headersMs: 5_000,
  /** The whole request, body included. */
  requestMs: 10_000,
  /** An idle keep-alive connection between two requests. */
  keepAliveMs: 5_000,
  /** How often Node looks for connections past those timeouts (its default sweep is 30 s). */
  sweepMs: 1_000,
  /** A connection past the cap that sends no request is closed after this. */
  shedIdleMs: 1_000,
} as const;

/** Connections past the cap that are still answered (503); past those, a connection is closed unanswered. */
export const SHED_SLOTS = 16;

/** The API cannot start as configured (no token, port taken, no certificate); the daemon refuses to start. */
export class ApiConfigError extends WardenError {
  constructor(code: 'API_TOKEN_MISSING' | 'API_LISTEN_FAILED' | 'API_TLS_FAILED', message: string, options?: { cause?: unknown }) {
    super(code, message, { cause: options?.cause });
  }
}

export interface RunningApi {
  /** The bound port (the real one when the spec asked for port 0). */
  port: number;
  /** Connections open now, and requests answered 503 for being past the cap since the start. */
  load(): { open: number; shed: number };
  close(): Promise<void>;
}

function readPem(spec: ApiSpec, which: 'cert' | 'key'): Buffer {
  const file = spec.tls![which];
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new ApiConfigError('API_TLS_FAILED', `agent.api.tls.${which} ${file}: cannot read it (${code}); give a PEM ${which === 'cert' ? 'certificate' : 'private key'} file`, { cause: e });
  }
}

/** A TCP connection's name while it is open: the same for the raw socket and the TLS socket over it. */
const keyOf = (s: Socket): string => `${s.remoteAddress ?? ''}|${s.remotePort ?? ''}`;

/**
 * Binds host:port from the spec. Rejects with ApiConfigError when the address cannot be bound or
 * the certificate cannot be read.
 */
export async function startApi(app: Hono, spec: ApiSpec, opts: { onError?: (err: Error) => void } = {}): Promise<RunningApi> {
  const timeouts = {
    headersTimeout: API_LIMITS.headersMs, requestTimeout: API_LIMITS.requestMs,
    keepAliveTimeout: API_LIMITS.keepAliveMs, connectionsCheckingInterval: API_LIMITS.sweepMs,
  };
  const serve = getRequestListener(app.fetch);
  // Connections in arrival order: true for those within the cap.
  const admitted = new Map<string, boolean>();
  const sockets = new Set<Socket>();
  let within = 0;
  let shed = 0;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (admitted.get(keyOf(req.socket)) === false) {
      shed++;
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1', connection: 'close' });
      res.end(JSON.stringify({ error: { code: 'overloaded', message: `more than ${spec.maxConnections} connections are open (agent.api.maxConnections); try again shortly` } }));
      return;
    }
    void serve(req, res);
  };
  const server: Server = spec.tls
    ? createHttps({ ...timeouts, cert: readPem(spec, 'cert'), key: readPem(spec, 'key'), handshakeTimeout: API_LIMITS.headersMs }, handler)
    : createHttp(timeouts, handler);
  server.on('connection', (socket: Socket) => {
    // Past the cap and the shed slots a connection is closed unanswered at once: the API's bound on
    // descriptors, so idle clients cannot take the ones a restart needs. (Node's own maxConnections
    // leaves such clients waiting for an answer that never comes.)
    if (sockets.size >= spec.maxConnections + SHED_SLOTS) {
      socket.destroy();
      return;
    }
    const key = keyOf(socket);
    sockets.add(socket);
    const ok = within < spec.maxConnections;
    admitted.set(key, ok);
    if (ok) within++;
    else socket.setTimeout(API_LIMITS.shedIdleMs, () => socket.destroy());
    socket.once('close', () => {
      sockets.delete(socket);
      admitted.delete(key);
      if (ok) within--;
    });
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      reject(new ApiConfigError('API_LISTEN_FAILED', `agent.api.listen ${spec.host}:${spec.port}: cannot listen (${e.code ?? e.message})`, { cause: e }));
    };
    server.once('error', onError);
    server.listen(spec.port, spec.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  // Accept failures (EMFILE among them) are reported, never fatal: the server keeps listening.
  server.on('error', (e) => opts.onError?.(e));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    load: () => ({ open: admitted.size, shed }),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Keep-alive connections, and TLS handshakes under way, would hold close() open until they time out.
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
    }),
  };
}
