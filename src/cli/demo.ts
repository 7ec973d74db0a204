// warden demo
import type { Command } from 'commander';
import { formatResults, runDemo } from '../demo/demo.js';
import { CliError, type GlobalOpts } from './common.js';

export function registerDemo(program: Command, _globals: () => GlobalOpts): void {
  program.command('demo')
    .description('start a lab of real processes (web → redis cache, worker), inject faults one by one, and show how Warden handles each')
    .option('--keep', 'keep the lab directory (config, store, logs) for inspection')
    .action(async (o: { keep?: boolean }) => {
      const started = Date.now();
      const results = await runDemo({ keep: o.keep });
      process.stdout.write(`\n${formatResults(results)}\n\n`);
      const failed = results.filter((r) => !r.ok).length;
      process.stdout.write(`${results.length - failed}/${results.length} faults handled as expected in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      if (failed > 0) throw new CliError(`${failed} fault(s) not handled as expected`, 1);
    });
}
