// The API's listening side: HTTP, or HTTPS with the configured certificate.
import { readFileSync } from 'node:fs';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import type { Hono } from 'hono';
import type { ApiSpec } from '../domain/types.js';
import { WardenError } from '../lib/errors.js';

/** The API cannot start as configured (no token, port taken, no certificate); the daemon refuses to start. */
export class ApiConfigError extends WardenError {
  constructor(code: 'API_TOKEN_MISSING' | 'API_LISTEN_FAILED' | 'API_TLS_FAILED', message: string, options?: { cause?: unknown }) {
    super(code, message, { cause: options?.cause });
  }
}

export interface RunningApi {
  /** The bound port (the real one when the spec asked for port 0). */
  port: number;
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

/**
 * Binds host:port from the spec. Rejects with ApiConfigError when the address cannot be bound or
 * the certificate cannot be read.
 */
export async function startApi(app: Hono, spec: ApiSpec, opts: { onError?: (err: Error) => void } = {}): Promise<RunningApi> {
  const serve = getRequestListener(app.fetch);
  const handler = (req: IncomingMessage, res: ServerResponse): void => { void serve(req, res); };
  // Slow or idle clients must not pin sockets: every endpoint answers in milliseconds.
  const timeouts = { headersTimeout: 5_000, requestTimeout: 10_000 };
  const server: Server = spec.tls
    ? createHttps({ ...timeouts, cert: readPem(spec, 'cert'), key: readPem(spec, 'key') }, handler)
    : createHttp(timeouts, handler);
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
  server.on('error', (e) => opts.onError?.(e));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Keep-alive connections would hold close() open until they time out.
      server.closeAllConnections();
    }),
  };
}
