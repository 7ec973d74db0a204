// Entry point: argv → cli. The only place that exits the process.
import { runCli } from './cli/index.js';

const code = await runCli(process.argv.slice(2));
process.exitCode = code;
// A failed command must not linger on a handle it left open (a daemon whose start failed above all).
if (code !== 0) process.exit(code);
