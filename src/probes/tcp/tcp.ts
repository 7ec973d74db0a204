// TCP probe: the service accepts connections. Connect, close at once, never send anything.
import { connect } from 'node:net';
import type { ProbeResult } from '../../domain/types.js';
import { errorMessage, fail, ok, timedOut } from '../result.js';
import { parseAddress } from '../../lib/address.js';

export type TcpProbeSpec = { type: 'tcp'; address: string };

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
