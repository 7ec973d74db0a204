// warden demo [SCENARIO]
import type { Command } from 'commander';
import { formatResults, runScenario } from '../demo/demo.js';
import { SCENARIOS } from '../demo/scenarios/index.js';
import { suggestion } from '../lib/suggest.js';
import { CliError, type GlobalOpts } from './common.js';

export function registerDemo(program: Command, _globals: () => GlobalOpts): void {
  const list = Object.values(SCENARIOS).map((s) => `  ${s.name.padEnd(12)} ${s.description}`).join('\n');
  program.command('demo')
    .argument('[scenario]', 'which lab to break', 'default')
    .description('start a lab of real processes, inject faults one by one, and show how Warden handles each')
    .option('--keep', 'keep the lab directory (config, store, logs) for inspection')
    .addHelpText('after', `\nScenarios:\n${list}\n\nExits 0 only if every fault was handled as expected.\nExamples:\n  warden demo\n  npm run demo -- etcd`)
    .action(async (name: string, o: { keep?: boolean }) => {
      const scenario = SCENARIOS[name];
      if (!scenario) throw new CliError(`unknown demo scenario "${name}"${suggestion(name, Object.keys(SCENARIOS))}; scenarios are: ${Object.keys(SCENARIOS).join(', ')}`, 2);
      const started = Date.now();
      const results = await runScenario(scenario, { keep: o.keep });
      process.stdout.write(`\n${formatResults(results)}\n\n`);
      const failed = results.filter((r) => !r.ok).length;
      process.stdout.write(`${results.length - failed}/${results.length} faults handled as expected in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
      if (failed > 0) throw new CliError(`${failed} fault(s) not handled as expected`, 1);
    });
}
