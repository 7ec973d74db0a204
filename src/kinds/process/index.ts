// Kind plugin `process`: Warden starts the service itself, supervises it, and keeps its log.
import { z } from 'zod';
import { argv } from '../../config/fields.js';
import { defineKind } from '../kind.js';
import { ProcessDriver } from './driver.js';
import { ProcessSupervisor } from './supervisor.js';

const fields = {
  start: argv.meta({ description: 'kind process: the command that runs the service, an argv list, never a shell string, e.g. [node, api.js].' }),
};

export default defineKind({
  name: 'process',
  description: 'Warden starts and stops the service itself (like Monit\'s start/stop program)',
  fields,
  config: z.strictObject(fields),
  required: { start: 'the command that runs it, e.g. start: [node, api.js]' },
  hint: 'a kind process service is started with start: [...]',
  compile: (c) => ({ start: [...c.start], unit: null }),
  // Supervision reads process start times and states from /proc.
  prerequisites: [{ file: '/proc/self/stat' }],
  driver: (d) => new ProcessDriver(new ProcessSupervisor({ dataDir: d.dataDir, instanceId: d.instanceId, registry: d.registry, clock: d.clock, onExit: d.onExit, onError: d.onError })),
});
