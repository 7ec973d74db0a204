// A minimal Redis client for the lab: RESP2 over one pipelined TCP connection, no dependency.
// The lab's services talk to redis-server the way web.mjs does (plain net), so the lab needs
// nothing but Node and redis-server. Replies arrive in request order, so pending commands are a
// FIFO; any connection error or timeout fails every pending command and drops the connection (a
// late reply could otherwise be matched to the wrong command), and the next command reconnects.
import net from 'node:net';

/** An error reply from Redis (`-ERR ...`), as opposed to a failure to reach it. */
export class RedisReplyError extends Error {}

/** Encodes one command as a RESP array of bulk strings. */
export function encode(args) {
  let out = `*${args.length}\r\n`;
  for (const a of args) {
    const s = String(a);
    out += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  }
  return out;
}

/**
 * Parses one reply from `buf` at `pos`; returns `{ value, next }`, or null if the reply is not
 * complete yet. Error replies are returned as RedisReplyError values, not thrown.
 */
export function parseReply(buf, pos = 0) {
  if (pos >= buf.length) return null;
  const eol = buf.indexOf('\r\n', pos);
  if (eol < 0) return null;
  const type = String.fromCharCode(buf[pos]);
  const line = buf.toString('utf8', pos + 1, eol);
  const after = eol + 2;
  switch (type) {
    case '+': return { value: line, next: after };
    case '-': return { value: new RedisReplyError(line), next: after };
    case ':': return { value: Number(line), next: after };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, next: after };
      if (buf.length < after + len + 2) return null;
      return { value: buf.toString('utf8', after, after + len), next: after + len + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, next: after };
      const items = [];
      let next = after;
      for (let i = 0; i < n; i++) {
        const r = parseReply(buf, next);
        if (r === null) return null;
        items.push(r.value);
        next = r.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}

export class RedisClient {
  /** @param {{ host: string, port: number, timeoutMs: number }} opts */
  constructor(opts) {
    this.opts = opts;
    this.socket = null;
    this.pending = [];
    this.buf = Buffer.alloc(0);
  }

  /** Sends one command; resolves with its reply, rejects with RedisReplyError or a connection error. */
  command(args, timeoutMs = this.opts.timeoutMs) {
    const s = this.connection();
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject, timer: null };
      entry.timer = setTimeout(() => this.fail(new Error(`redis ${this.opts.host}:${this.opts.port} did not answer within ${timeoutMs} ms`)), timeoutMs);
      this.pending.push(entry);
      s.write(encode(args));
    });
  }

  connection() {
    if (this.socket) return this.socket;
    const s = net.connect({ host: this.opts.host, port: this.opts.port, noDelay: true });
    s.on('data', (d) => this.onData(d));
    s.on('error', (e) => this.fail(new Error(`redis ${this.opts.host}:${this.opts.port}: ${e.code ?? e.message}`), s));
    s.on('close', () => this.fail(new Error(`redis ${this.opts.host}:${this.opts.port} closed the connection`), s));
    this.socket = s;
    this.buf = Buffer.alloc(0);
    return s;
  }

  onData(d) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let pos = 0;
    for (;;) {
      const r = parseReply(this.buf, pos);
      if (r === null) break;
      pos = r.next;
      const p = this.pending.shift();
      if (!p) continue;
      clearTimeout(p.timer);
      if (r.value instanceof RedisReplyError) p.reject(r.value);
      else p.resolve(r.value);
    }
    this.buf = this.buf.subarray(pos);
  }

  /** Fails every pending command and drops the connection (only if `from` is still the current one). */
  fail(err, from = this.socket) {
    if (from !== this.socket) return;
    const s = this.socket;
    this.socket = null;
    s?.destroy();
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }

  close() {
    this.fail(new Error('client closed'));
  }
}

/**
 * PING on a fresh connection (not the shared one, so a health check tests reachability itself):
 * resolves with null when Redis answers +PONG in time, else with the reason it did not.
 */
export function ping(host, port, timeoutMs) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, noDelay: true });
    let settled = false;
    const done = (why) => { if (settled) return; settled = true; clearTimeout(timer); s.destroy(); resolve(why); };
    // One deadline for connect and answer together (a socket's idle timeout restarts on activity).
    const timer = setTimeout(() => done(`redis ${host}:${port} did not answer PING within ${timeoutMs} ms`), timeoutMs);
    s.once('error', (e) => done(`redis ${host}:${port}: ${e.code ?? e.message}`));
    s.once('connect', () => s.write('PING\r\n'));
    s.once('data', (d) => done(d.toString().startsWith('+PONG') ? null : `redis ${host}:${port} answered ${JSON.stringify(d.toString().trim())} to PING`));
    s.once('close', () => done(`redis ${host}:${port} closed the connection`));
  });
}
