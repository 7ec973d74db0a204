// TCP probe: the service accepts connections. Without `send`/`expect`: connect, close at once, never
// send anything. With them: write `send`, read until the reply matches `expect` — a listener whose
// process is stopped still accepts (the kernel completes connects on its backlog) but never answers.
import { connect } from 'node:net';
import type { ProbeResult } from '../../domain/types.js';
import { errorResult, fail, ok, timedOut } from '../result.js';
import { parseAddress } from '../../lib/address.js';

export type TcpProbeSpec = { type: 'tcp'; address: string; send?: string; expect?: string };

/** Replies are read up to this size: enough for any greeting or PONG, bounded against a flood. */
const MAX_REPLY = 64 * 1024;

export function tcp(spec: TcpProbeSpec, timeoutMs: number): Promise<ProbeResult> {
  const start = performance.now();
  const target = parseAddress(spec.address);
  if (target === null) {
    return Promise.resolve(fail(`invalid address "${spec.address}" (expected host:port)`, start));
  }
  return new Promise((resolve) => {
    let settled = false;
    let reply = '';
    const socket = connect({ host: target.host, port: target.port });
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(reply === '' ? timedOut(timeoutMs, start)
      : { ...timedOut(timeoutMs, start), message: `timed out after ${timeoutMs} ms waiting for ${JSON.stringify(spec.expect)}, got ${JSON.stringify(clip(reply))}` }), timeoutMs);
    socket.once('error', (err) => finish(errorResult(err, start)));
    socket.once('connect', () => {
      if (spec.send === undefined && spec.expect === undefined) { finish(ok(`connected to ${spec.address}`, start)); return; }
      if (spec.send !== undefined) socket.write(spec.send);
      if (spec.expect === undefined) { socket.end(); finish(ok(`connected to ${spec.address} and sent`, start)); return; }
      const expect = spec.expect;
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        reply = (reply + chunk).slice(-MAX_REPLY);
        if (reply.includes(expect)) finish(ok(`${spec.address} answered ${JSON.stringify(expect)}`, start));
      });
      socket.once('end', () => finish(fail(`${spec.address} closed without ${JSON.stringify(expect)}, got ${JSON.stringify(clip(reply))}`, start)));
    });
  });
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}
