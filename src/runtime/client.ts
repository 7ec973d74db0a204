// The CLI's side of the daemon's API (status and debug ask the running daemon): the configured
// token, over HTTP or, with agent.api.tls, over TLS to exactly the configured certificate.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request, type OutgoingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { connect, rootCertificates, type TLSSocket } from 'node:tls';
import type { ApiSpec } from '../domain/types.js';
import { errorText } from '../lib/errors.js';
import { readToken } from './api.js';

export type ApiAnswer = { ok: true; body: unknown } | { ok: false; reason: string };

/** Where a client on this host reaches the API: a wildcard listen address means loopback. */
export function apiBaseUrl(spec: ApiSpec): string {
  const host = connectHost(spec);
  return `${spec.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${spec.port}`;
}

function connectHost(spec: ApiSpec): string {
  return spec.host === '0.0.0.0' || spec.host === '' ? '127.0.0.1' : spec.host === '::' ? '::1' : spec.host;
}

/**
 * A TLS connection to a server that presented the configured certificate: pinned by its
 * fingerprint, so a self-signed certificate works and no other one (nor a man in the middle) is
 * sent the token. Resolves once the handshake and the check are done, before anything is written.
 */
function pinnedTls(spec: ApiSpec, timeoutMs: number): Promise<TLSSocket> {
  const file = spec.tls!.cert;
  const pem = readFileSync(file, 'utf8');
  const pin = new X509Certificate(pem).fingerprint256;
  const host = connectHost(spec);
  return new Promise((resolve, reject) => {
    const socket = connect({
      host, port: spec.port, ...(isIP(host) ? {} : { servername: host }),
      ca: [...rootCertificates, pem],
      checkServerIdentity: (_name, cert) => (cert.fingerprint256 === pin ? undefined : Object.assign(new Error('certificate pin mismatch'), { code: 'ERR_CERT_PIN' })),
    });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no TLS handshake within ${timeoutMs} ms`)));
    socket.once('secureConnect', () => { socket.setTimeout(0); resolve(socket); });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      // Chain or pin, a certificate refused means the same to the operator: not the configured one.
      const cert = /CERT|SELF_SIGNED|ISSUER/.test(e.code ?? '') || e.message.includes('agent.api.tls.cert');
      reject(cert ? new Error(`the server's certificate is not the one in agent.api.tls.cert (${file})${e.code ? ` (${e.code})` : ''}`) : e);
    });
  });
}

async function get(spec: ApiSpec, path: string, headers: OutgoingHttpHeaders, timeoutMs: number): Promise<{ status: number; text: string }> {
  const socket = spec.tls ? await pinnedTls(spec, timeoutMs) : null;
  return new Promise((resolve, reject) => {
    const req = request({
      host: connectHost(spec), port: spec.port, path, headers, timeout: timeoutMs,
      // One connection per call (no pool to go stale); over TLS, the one already checked.
      ...(socket ? { createConnection: () => socket } : { agent: false }),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end();
  });
}

/** GET a path of the daemon's API with the configured token. Never throws; says why it failed. */
export async function apiGet(spec: ApiSpec, path: string, opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<ApiAnswer> {
  let token: string;
  try {
    token = readToken(spec, opts.env);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  const url = `${apiBaseUrl(spec)}${path}`;
  let res: { status: number; text: string };
  try {
    res = await get(spec, path, { authorization: `Bearer ${token}` }, opts.timeoutMs ?? 3000);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, reason: `GET ${url}: ${code !== undefined && /^E[A-Z]+$/.test(code) ? code : errorText(e)}` };
  }
  if (res.status !== 200) {
    let message = res.text.slice(0, 200);
    try {
      message = (JSON.parse(res.text) as { error: { message: string } }).error.message;
    } catch { /* not our JSON: show the raw start */ }
    return { ok: false, reason: `GET ${url}: HTTP ${res.status}: ${message}` };
  }
  try {
    return { ok: true, body: JSON.parse(res.text) as unknown };
  } catch {
    return { ok: false, reason: `GET ${url}: the answer is not JSON` };
  }
}
