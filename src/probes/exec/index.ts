// Probe plugin `exec`: run a program (argv, no shell); healthy when it exits 0.
import { resolve } from 'node:path';
import { z } from 'zod';
import { argv, path } from '../../config/fields.js';
import { defineProbe } from '../probe.js';
import { remoteExec } from '../remote.js';
import { exec } from './exec.js';

export default defineProbe({
  name: 'exec',
  description: 'runs a command (argv, no shell); healthy when it exits 0',
  config: z.strictObject({
    argv: argv.meta({ description: 'Command to run; exit code 0 is healthy. An argv list, e.g. [redis-cli, ping].' }),
    cwd: path.optional().meta({ description: "Working directory; defaults to the service's cwd." }),
  }),
  compile: (c, ctx) => ({ argv: [...c.argv], cwd: c.cwd === undefined ? ctx.serviceCwd : resolve(ctx.base, c.cwd) }),
  // The command it runs is the user's; whether that exists is the check's result, not a prerequisite.
  prerequisites: [],
  run: exec,
  remote: remoteExec,
  target: (s) => s.argv.join(' '),
  command: (s) => ({ argv: s.argv, cwd: s.cwd, field: 'argv' }),
});
