// Kind plugin `container`: one container run, observed and driven through Podman.
import { z } from 'zod';
import { defineKind } from '../kind.js';
import { compileContainer, containerSchema } from './config.js';
import { PodmanDriver } from './driver.js';

const fields = { container: containerSchema };

/** Podman 4 or later on PATH; the same for kind pod. */
export const PODMAN = { binary: 'podman', version: { args: ['--version'], pattern: 'podman version (\\d+)', min: '4' } };

export default defineKind({
  name: 'container',
  description: 'a container run and observed through Podman',
  fields,
  config: z.strictObject(fields),
  required: { container: 'the container to run, e.g. container: { image: localhost/app:1 }' },
  hint: 'Podman runs a kind container service (container: { image: ... })',
  compile: (c, ctx) => ({ container: compileContainer({ ...c.container, name: c.container.name ?? ctx.service ?? '' }), unit: null, start: [] }),
  prerequisites: [PODMAN],
  driver: (d) => new PodmanDriver({ clock: d.clock, onChange: d.onChange, onExit: d.onExit, onError: d.onError }),
});
