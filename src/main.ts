// Entry point: argv → cli. The only place that exits the process.
import { runCli } from './cli/index.js';

process.exitCode = await runCli(process.argv.slice(2));
