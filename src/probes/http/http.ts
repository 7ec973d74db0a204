// HTTP probe: GET the URL, the status must equal expectStatus, and the body (first 64 KiB) must
// match bodyMatch when one is given.
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { ProbeResult } from '../../domain/types.js';
import { errorMessage, errorResult, fail, ok, timedOut } from '../result.js';

export type HttpProbeSpec = { type: 'http'; url: string; expectStatus: number; bodyMatch?: string };

/** A health endpoint that needs more than this to say it is healthy is not read further. */
export const MAX_BODY_BYTES = 64 * 1024;

export type BodyMatcher = (body: string) => boolean;

/** `/re/flags` is a regular expression; anything else is a substring. Throws on a bad regex. */
export function compileBodyMatch(bodyMatch: string): BodyMatcher {
  const m = /^\/(.+)\/([dgimsuvy]*)$/s.exec(bodyMatch);
  if (m?.[1] !== undefined) {
    const re = new RegExp(m[1], m[2]);
    return (body) => {
      re.lastIndex = 0; // a /g or /y flag would otherwise make the regex stateful across probes
      return re.test(body);
    };
  }
  return (body) => body.includes(bodyMatch);
}

/** Opens the stream a request goes over instead of a TCP connection from here (a probe run on a remote host). */
export type Opener = () => Promise<Duplex>;

export function http(spec: HttpProbeSpec, timeoutMs: number, open?: Opener): Promise<ProbeResult> {
  const start = performance.now();
  let url: URL;
  let matcher: BodyMatcher | null = null;
  try {
    url = new URL(spec.url);
    if (spec.bodyMatch !== undefined) matcher = compileBodyMatch(spec.bodyMatch);
  } catch (err) {
    return Promise.resolve(fail(errorMessage(err), start));
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return Promise.resolve(fail(`unsupported protocol ${url.protocol} in ${spec.url}`, start));
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;

  return new Promise((resolve) => {
    let settled = false;
    // agent: false → a fresh connection with "Connection: close": no pooled socket that a dead
    // server left half-open can answer for it, and nothing lingers between probes.
    let req: ClientRequest;
    try {
      req = request(url, {
        method: 'GET', agent: false, headers: { 'user-agent': 'warden-probe' },
        ...(open === undefined ? {} : { createConnection: viaStream(open, url) }),
      });
    } catch (err) {
      resolve(errorResult(err, start));
      return;
    }
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(timedOut(timeoutMs, start)), timeoutMs);
    // Without TCP_NODELAY a small write waiting on the peer's delayed ACK costs 40 ms.
    req.on('socket', (socket) => { if (open === undefined) socket.setNoDelay(true); });
    req.on('error', (err) => finish(errorResult(err, start)));
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status !== spec.expectStatus) {
        finish(fail(`HTTP ${status} (expected ${spec.expectStatus})`, start));
        return;
      }
      if (matcher === null) {
        finish(ok(`HTTP ${status}`, start));
        return;
      }
      const test = matcher;
      const chunks: Buffer[] = [];
      let size = 0;
      const judge = (): void => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (test(body)) finish(ok(`HTTP ${status}, body matched`, start));
        else finish(fail(`HTTP ${status} but body did not match ${spec.bodyMatch ?? ''}`, start));
      };
      res.on('data', (chunk: Buffer) => {
        const room = MAX_BODY_BYTES - size;
        chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
        size += Math.min(chunk.length, room);
        if (size >= MAX_BODY_BYTES) judge();
      });
      res.on('end', judge);
      res.on('error', (err) => finish(fail(errorMessage(err), start)));
    });
    req.end();
  });
}

/** http's createConnection over a stream that opens later (callback form), TLS on top for https. */
function viaStream(open: Opener, url: URL): (opts: unknown, cb: (err: Error | null, s: Duplex) => void) => undefined {
  return (_opts, cb) => {
    open().then(
      (s) => cb(null, url.protocol === 'https:' ? tlsConnect({ socket: s, servername: url.hostname }) : s),
      // http takes the error and no socket; its type wants one anyway.
      (e: unknown) => cb(e instanceof Error ? e : new Error(String(e)), undefined as unknown as Duplex),
    );
    return undefined;
  };
}
