// Kind plugin `pod`: a Podman pod whose containers are started, stopped and judged as one service.
import { z } from 'zod';
import { name } from '../../config/fields.js';
import { defineKind } from '../kind.js';
import { compileContainer, memberSchema } from '../container/config.js';
import { PodmanDriver } from '../container/driver.js';
import { PODMAN } from '../container/index.js';

const podSchema = z.strictObject({
  name: name('pod').optional().meta({ description: "The pod's name in Podman; the service's name when left out." }),
  containers: z.array(memberSchema).min(1, { error: 'expected at least one container in the pod' })
    .meta({ description: 'Its containers; each runs in Podman as <pod>-<name>.' }),
}).meta({ description: 'kind pod: a Podman pod and its containers.' });

const fields = { pod: podSchema };

export default defineKind({
  name: 'pod',
  description: 'a Podman pod: its containers started, stopped and judged as one service',
  fields,
  config: z.strictObject(fields),
  required: { pod: 'the pod and its containers, e.g. pod: { containers: [{ name: web, image: localhost/app:1 }] }' },
  hint: 'a kind pod service lists its containers under pod: { containers: [...] }',
  compile: (c, ctx) => {
    const pod = c.pod.name ?? ctx.service ?? '';
    return { pod: { name: pod, containers: c.pod.containers.map((m) => compileContainer({ ...m, name: `${pod}-${m.name}` })) }, unit: null, start: [] };
  },
  prerequisites: [PODMAN],
  driver: (d) => new PodmanDriver({ clock: d.clock, onChange: d.onChange, onExit: d.onExit, onError: d.onError }),
});
