// `hosts:` — the machines services run on and how Warden reaches each: `local` (the machine it
// runs on) or `ssh`. Here as written and compiled; src/transport/ does the reaching.
import { resolve } from 'node:path';
import { z } from 'zod';
import type { HostSpec } from '../domain/types.js';
import { parseDuration } from '../lib/duration.js';
import { duration, name, path, show } from './fields.js';

const TRANSPORTS = ['local', 'ssh'] as const;

export const hostSchema = z.strictObject({
  name: name('host'),
  transport: z.enum(TRANSPORTS, { error: (iss) => `expected transport local or ssh; got ${show(iss.input)}` }).default('local')
    .meta({ description: 'local: the machine Warden runs on; ssh: a machine reached with the system OpenSSH client (docs/fleet.md).' }),
  address: z.string().min(1).regex(/^[^\s'"]+$/, { error: (iss) => `expected a host name or address without spaces or quotes; got ${show(iss.input)}` }).optional()
    .meta({ description: 'transport ssh: host name, address or ~/.ssh/config alias to connect to.' }),
  user: z.string().regex(/^[a-z_][a-z0-9_.-]*$/i, { error: (iss) => `expected a user name; got ${show(iss.input)}` }).optional()
    .meta({ description: "transport ssh: the account to log in as; default: ~/.ssh/config's User, else Warden's own user." }),
  port: z.int().min(1).max(65535).optional().meta({ description: "transport ssh: sshd's port; default: ~/.ssh/config's Port, else 22." }),
  identityFile: path.optional().meta({ description: 'transport ssh: private key to log in with (besides the agent and ~/.ssh/config); relative to the config file.' }),
  knownHostsFile: path.optional().meta({ description: "transport ssh: a known_hosts file to check the host key against, besides the user's own; relative to the config file." }),
  connectTimeout: duration({ positive: true }).optional().meta({ description: 'transport ssh: give up connecting after this long; default 3s.' }),
  interval: duration({ positive: true }).optional().meta({ description: 'transport ssh: how often the host itself is probed (reachable, boot id, load, memory, disks, clock); default 2s.' }),
  mounts: z.array(path).optional().meta({ description: 'transport ssh: mount points whose space and inodes are read; default [/].' }),
});

export type HostIn = z.output<typeof hostSchema>;

/** The fields only transport ssh takes, for the check that a local host does not set them. */
export const SSH_ONLY = ['address', 'user', 'port', 'identityFile', 'knownHostsFile', 'connectTimeout', 'interval', 'mounts'] as const;

export function compileHost(h: HostIn, base: string): HostSpec {
  if (h.transport === 'local') return { name: h.name, transport: 'local' };
  return {
    name: h.name,
    transport: 'ssh',
    // semantic.ts has made sure it is there.
    address: h.address ?? h.name,
    user: h.user ?? null,
    port: h.port ?? null,
    identityFile: h.identityFile === undefined ? null : resolve(base, h.identityFile),
    knownHostsFile: h.knownHostsFile === undefined ? null : resolve(base, h.knownHostsFile),
    connectTimeoutMs: parseDuration(h.connectTimeout ?? '3s'),
    intervalMs: parseDuration(h.interval ?? '2s'),
    mounts: [...(h.mounts ?? ['/'])],
  };
}
