// host:port as the config, the tcp probe and the API listener all spell it (IPv6 in brackets).
/** "host:port" or "[v6]:port" → parts; null when the address cannot be a TCP endpoint. */
export function parseAddress(address: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
  if (m === null) return null;
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (host === undefined || port < 1 || port > 65535) return null;
  return { host, port };
}

/** Only this host can connect: 127.0.0.0/8, ::1 or localhost. Wildcards (0.0.0.0, ::) are not. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
