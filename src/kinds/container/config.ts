// The config of one container, shared by kind container and each member of a kind pod, and its
// compilation into a ContainerRun.
import { z } from 'zod';
import { argv, bytes, count, duration, env, name, show } from '../../config/fields.js';
import type { ContainerRun } from '../../domain/types.js';
import { parseBytes, parseDuration } from '../../lib/duration.js';

const healthcheck = z.strictObject({
  command: argv.meta({ description: 'argv run inside the container; exit 0 is healthy, e.g. [test, -f, /tmp/ready].' }),
  interval: duration({ positive: true }).default('1s').meta({ description: 'How often Warden runs it (podman healthcheck run).' }),
  timeout: duration({ positive: true }).default('1s'),
  retries: count.default(1).meta({ description: 'Consecutive failures before Podman calls the container unhealthy.' }),
});

const ULIMIT = /^[0-9]+(:[0-9]+)?$/;

export const containerFields = {
  image: z.string().min(1).meta({ description: 'The image, e.g. localhost/app:1 (nothing is pulled that is not already there unless Podman may pull it).' }),
  command: argv.optional().meta({ description: "argv run in the image; the image's own command when left out." }),
  env: env.default({}),
  ports: z.array(z.string().regex(/^[0-9.:]*[0-9]+(\/(tcp|udp))?$/, { error: (iss) => `expected a port mapping such as "8080:80" or "127.0.0.1:8080:80"; got ${show(iss.input)}` })).default([])
    .meta({ description: 'Published ports, as podman run -p takes them.' }),
  memory: bytes.optional().meta({ description: 'Memory limit (--memory, and as much swap: none beyond it); the kernel OOM-kills the container past it.' }),
  healthcheck: healthcheck.optional(),
  network: z.string().min(1).optional().meta({ description: "--network: none, host, or a network's name; Podman's default when left out." }),
  runtime: z.string().min(1).optional().meta({ description: 'The OCI runtime (podman --runtime), e.g. runc.' }),
  ulimits: z.record(z.string().regex(/^[a-z]+$/), z.string().regex(ULIMIT, { error: (iss) => `expected SOFT:HARD such as 1024:1024; got ${show(iss.input)}` })).default({})
    .meta({ description: 'Resource limits (--ulimit NAME=SOFT:HARD), e.g. { nofile: "1024:1024", nproc: "1024:1024" }.' }),
};

export const containerSchema = z.strictObject({
  name: name('container').optional().meta({ description: "The container's name in Podman; the service's name when left out." }),
  ...containerFields,
}).meta({ description: 'kind container: the container Podman runs.' });

export const memberSchema = z.strictObject({ name: name('container'), ...containerFields });

export function compileContainer(c: z.output<typeof memberSchema>): ContainerRun {
  return {
    name: c.name,
    image: c.image,
    command: [...(c.command ?? [])],
    env: Object.fromEntries(Object.entries(c.env).map(([k, v]) => [k, String(v)])),
    ports: [...c.ports],
    memoryBytes: c.memory === undefined ? null : parseBytes(c.memory),
    healthcheck: c.healthcheck ? {
      command: [...c.healthcheck.command], intervalMs: parseDuration(c.healthcheck.interval),
      timeoutMs: parseDuration(c.healthcheck.timeout), retries: c.healthcheck.retries,
    } : null,
    network: c.network ?? null,
    runtime: c.runtime ?? null,
    ulimits: { ...c.ulimits },
  };
}
