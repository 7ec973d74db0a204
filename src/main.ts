// Entry point: argv → cli. The only place that exits the process.
import { runCli } from './cli/index.js';

const streams = [process.stdout, process.stderr];
/** A reader that went away (`warden status | head -1`): the failed write is marked before its error event fires. */
const readerGone = (): boolean => streams.some((s) => (s.errored as NodeJS.ErrnoException | null)?.code === 'EPIPE');

// Not an error: stop quietly with exit 0, like cat does, whatever the command would have returned.
for (const stream of streams) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

const code = await runCli(process.argv.slice(2));
const exit = readerGone() ? 0 : code;
process.exitCode = exit;
// A failed command must not linger on a handle it left open (a daemon whose start failed above all).
if (exit !== 0) process.exit(exit);
