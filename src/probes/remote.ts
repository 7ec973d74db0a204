// Probes of a service on a host Warden reaches through a transport: they run there, so `127.0.0.1`
// in a check means the service's host, as it does for a service on Warden's own host. exec runs
// its argv on the host; tcp connects from the host; http speaks HTTP over a stream the host opens.
import type { ProbeResult } from '../domain/types.js';
import { parseAddress } from '../lib/address.js';
import type { Transport } from '../transport/transport.js';
import type { ExecProbeSpec } from './exec/exec.js';
import { lastLine } from './exec/exec.js';
import { http, type HttpProbeSpec } from './http/http.js';
import { fail, ok } from './result.js';
import type { TcpProbeSpec } from './tcp/tcp.js';
import { quote } from '../transport/ssh.js';

/** The transport's failure as a probe result: an unreachable host is not a failed command. */
function ran(t: Transport, r: Awaited<ReturnType<Transport['run']>>, timeoutMs: number, start: number): ProbeResult | null {
  if (r.unreachable !== undefined) return fail(r.unreachable.message, start);
  if (r.code === null) {
    const timedOut = /timed out/.test(r.stderr);
    return { ...fail(timedOut ? `timed out after ${timeoutMs} ms on ${t.host}` : `could not run on ${t.host}: ${lastLine(r.stderr)}`, start), timedOut };
  }
  return null;
}

/**
 * exec on the host: its argv as given, in the login directory of the SSH account (the check's
 * cwd is a path on Warden's machine, so it is not used there).
 */
export async function remoteExec(spec: ExecProbeSpec, timeoutMs: number, t: Transport): Promise<ProbeResult> {
  const start = performance.now();
  const r = await t.run(spec.argv, { timeoutMs });
  const bad = ran(t, r, timeoutMs, start);
  if (bad !== null) return bad;
  const line = lastLine(r.stdout + r.stderr);
  return r.code === 0 ? ok(line === '' ? 'exit 0' : `exit 0: ${line}`, start) : fail(`exit ${r.code}${line === '' ? '' : `: ${line}`}`, start);
}

/**
 * tcp from the host. A plain connect asks the host's bash to open /dev/tcp (an SSH -W channel
 * gives no sign that the far end accepted); with send/expect the reply is the sign, so the probe
 * talks over a stream the host opens.
 */
export async function remoteTcp(spec: TcpProbeSpec, timeoutMs: number, t: Transport): Promise<ProbeResult> {
  const start = performance.now();
  const a = parseAddress(spec.address);
  if (a === null) return fail(`invalid address "${spec.address}" (expected host:port)`, start);
  if (spec.send === undefined && spec.expect === undefined) {
    const r = await t.run(['bash', '-c', `exec 3<>/dev/tcp/${quote(a.host.replace(/^\[|\]$/g, ''))}/${a.port}`], { timeoutMs });
    const bad = ran(t, r, timeoutMs, start);
    if (bad !== null) return bad;
    return r.code === 0 ? ok(`connected to ${spec.address}`, start) : fail(`connect ${spec.address} from ${t.host}: ${lastLine(r.stderr).replace(/^bash: (line \d+: )?/, '') || `exit ${r.code}`}`, start);
  }
  let stream;
  try {
    stream = await t.connect(a, { timeoutMs });
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e), start);
  }
  return new Promise((resolve) => {
    let reply = '';
    let settled = false;
    const finish = (r: ProbeResult): void => { if (settled) return; settled = true; clearTimeout(timer); stream.destroy(); resolve(r); };
    const timer = setTimeout(() => finish({ ...fail(`timed out after ${timeoutMs} ms`, start), timedOut: true }), timeoutMs);
    stream.on('error', (e) => finish(fail(e.message, start)));
    stream.on('data', (c: Buffer) => {
      reply = (reply + c.toString('utf8')).slice(-64 * 1024);
      if (spec.expect === undefined || reply.includes(spec.expect)) finish(ok(`${spec.address} answered from ${t.host}`, start));
    });
    stream.on('end', () => finish(fail(`${spec.address} closed without ${JSON.stringify(spec.expect)}`, start)));
    if (spec.send !== undefined) stream.write(spec.send);
    if (spec.expect === undefined) finish(ok(`connected to ${spec.address} and sent`, start));
  });
}

export function remoteHttp(spec: HttpProbeSpec, timeoutMs: number, t: Transport): Promise<ProbeResult> {
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    return http(spec, timeoutMs);
  }
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return http(spec, timeoutMs, () => t.connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port }, { timeoutMs }));
}

