// Entry point: argv → cli. The only place that exits the process.
import { runCli } from './cli/index.js';

// A reader that went away (`warden status | head -1`) is not an error: stop quietly, like cat does.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// A failed command must not linger on a handle it left open (a daemon whose start failed above all).
if (code !== 0) process.exit(code);
