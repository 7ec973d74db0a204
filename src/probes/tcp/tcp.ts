// TCP probe: the service accepts connections. Connect, close at once, never send anything.
import { connect } from 'node:net';
import type { ProbeResult, ProbeSpec } from '../../domain/types.js';
import { errorMessage, fail, ok, timedOut } from '../result.js';

export type TcpProbeSpec = Extract<ProbeSpec, { type: 'tcp' }>;

/** "host:port" or "[v6]:port" → parts; null when the address cannot be a TCP endpoint. */
export function parseAddress(address: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
  if (m === null) return null;
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (host === undefined || port < 1 || port > 65535) return null;
  return { host, port };
}

export function tcp(spec: TcpProbeSpec, timeoutMs: number): Promise<ProbeResult> {
  const start = performance.now();
  const target = parseAddress(spec.address);
  if (target === null) {
    return Promise.resolve(fail(`invalid address "${spec.address}" (expected host:port)`, start));
  }
  return new Promise((resolve) => {
    let settled = false;
    const socket = connect({ host: target.host, port: target.port });
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(timedOut(timeoutMs, start)), timeoutMs);
    socket.once('connect', () => finish(ok(`connected to ${spec.address}`, start)));
    socket.once('error', (err) => finish(fail(errorMessage(err), start)));
  });
}
