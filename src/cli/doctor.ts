// warden doctor [--json]: every plugin with its family, state and reason, and every check Warden
// can make of its own environment. Exit 0 when all is well; 1 when something the config needs is
// disabled or failed, or an environment check fails.
import type { Command } from 'commander';
import { pluginStatuses, pluginsUsed } from '../plugins/index.js';
import { selfChecks } from '../runtime/selfcheck.js';
import { CliError, config, printJson, printTable, type GlobalOpts } from './common.js';

export function registerDoctor(program: Command, globals: () => GlobalOpts): void {
  program.command('doctor')
    .description("list plugins (enabled | disabled | failed, and why) and check Warden's own environment")
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const cfg = config(globals());
      const used = pluginsUsed(cfg);
      const plugins = (await pluginStatuses()).map((p) => ({ ...p, usedBy: used.get(`${p.family}:${p.name}`) ?? [] }));
      const environment = selfChecks(cfg);
      const problems = [
        ...plugins.filter((p) => p.state !== 'enabled' && p.usedBy.length > 0).map((p) => `${p.family} ${p.name} is ${p.state} (${p.reason}); needed by ${p.usedBy.join(', ')}`),
        ...environment.filter((c) => c.status === 'fail').map((c) => `${c.check}: ${c.detail}`),
      ];
      if (o.json) {
        // `state` beside `status` on checks: one name per concept across JSON forms (docs/json.md).
        printJson({ ok: problems.length === 0, plugins, environment: environment.map((c) => ({ ...c, state: c.status })), problems });
      } else {
        printTable(plugins.map((p) => ({ FAMILY: p.family, NAME: p.name, STATE: p.state, USED: p.usedBy.length > 0 ? 'yes' : '-', REASON: p.reason })), 'no plugins');
        process.stdout.write('\n');
        printTable(environment.map((c) => ({ CHECK: c.check, STATUS: c.status, DETAIL: c.detail })), 'no checks');
        process.stdout.write(problems.length === 0 ? '\nall is well\n' : `\n${problems.map((p) => `problem: ${p}`).join('\n')}\n`);
      }
      if (problems.length > 0) throw new CliError('', 1);
    });
}
