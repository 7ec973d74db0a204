// warden eval CAMPAIGN: the fault catalog run against real labs, scored AIOpsLab-style.
import type { Command } from 'commander';
import { runCampaign } from '../eval/campaign.js';
import { formatReport } from '../eval/report.js';
import { CliError, intOption, printJson, type GlobalOpts } from './common.js';

export function registerEval(program: Command, _globals: () => GlobalOpts): void {
  program.command('eval')
    .argument('<campaign>', 'a campaign file, e.g. lab/campaigns/default.yaml')
    .description('run fault scenarios against real labs and score detection, root cause, mitigation and false positives')
    .option('--json', 'print the report as JSON (stable field names, for CI)')
    .option('--repeat <n>', 'run every scenario n times (default: the campaign\'s repeat)', intOption(1, 100))
    .option('--seed <s>', 'shuffle the runs with this seed (default 1): the same seed, the same order', intOption(0, 2 ** 31 - 1))
    .option('--keep', 'keep each run\'s lab directory (its warden.yaml is in the JSON as "config"): explain its ticket with warden --config FILE explain ID')
    .option('--verbose', 'print the daemon\'s log lines as each run goes')
    .addHelpText('after', `
Each scenario (lab/scenarios/NAME.yaml) brings up its own lab of real processes and a Warden on it,
injects one fault (a signal, a full tmpfs, a lowered rlimit, a bad deploy, a slow or lossy link),
waits for the ticket to close, compares it with the expected root cause, actions and outcome, and
tears everything down. No-fault controls must open no ticket. See docs/eval.md for the catalog
format and what each figure means. Needs root for the scenarios with volumes (tmpfs).

Exits 0 only if every run met its expectations.
Examples:
  warden eval lab/campaigns/default.yaml
  warden eval lab/campaigns/smoke.yaml --json --repeat 3 --seed 7`)
    .action(async (file: string, o: { json?: boolean; repeat?: number; seed?: number; verbose?: boolean; keep?: boolean }) => {
      const tty = process.stderr.isTTY && !o.json;
      const report = await runCampaign(file, {
        ...(o.repeat ? { repeat: o.repeat } : {}),
        ...(o.seed !== undefined ? { seed: o.seed } : {}),
        keep: o.keep ?? false,
        ...(o.verbose ? { log: (l: string) => process.stderr.write(`${l}\n`) } : {}),
        progress: (done, total, name) => {
          if (!tty) return;
          const width = 24;
          const bar = '█'.repeat(Math.round((done / total) * width)).padEnd(width, '░');
          process.stderr.write(`\r\x1b[K${bar} ${done}/${total}${name ? ` ${name}` : ''}${done === total ? '\n' : ''}`);
        },
      });
      if (o.json) printJson(report);
      else process.stdout.write(formatReport(report));
      const failed = report.runs.filter((r) => !r.result.ok).length;
      if (failed > 0) throw new CliError(o.json ? '' : `${failed} of ${report.runs.length} runs did not meet their expectations`, 1);
    });
}
