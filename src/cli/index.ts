// The command line: one commander program, thin commands over core, one error mapper.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/load.js';
import { registerActions } from './actions.js';
import { registerChaos } from './chaos.js';
import { CliError, type GlobalOpts } from './common.js';
import { registerCompletion } from './completion.js';
import { registerControl } from './control.js';
import { registerDemo } from './demo.js';
import { registerDoctor } from './doctor.js';
import { registerEval } from './eval.js';
import { registerEvents } from './events.js';
import { registerExplain } from './explain.js';
import { registerPolicy } from './policy.js';
import { registerLab } from './lab.js';
import { registerLifecycle } from './lifecycle.js';
import { registerNotify } from './notify.js';
import { registerStatus } from './status.js';
import { registerStore } from './store.js';
import { registerSystem } from './system.js';
import { registerTickets } from './tickets.js';

/** The package's version, read once from package.json at the checkout's root. */
export const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

export async function runCli(argv: string[]): Promise<number> {
  const program = new Command('warden')
    .description('Warden: an out-of-band operations agent. It compares what should run (warden.yaml) with what does,\nfinds what broke and why, repairs it under policy, verifies the repair, and audits every decision.')
    .version(VERSION, '-V, --version', 'print the version')
    .option('-c, --config <path>', 'config file', process.env.WARDEN_CONFIG ?? 'warden.yaml')
    .showHelpAfterError('(run "warden --help" or "warden <command> --help" for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) })
    .addHelpText('after', `
Getting started:
  warden init                 write a commented warden.yaml
  warden validate             check it (errors as file:line:col)
  warden reconcile --once     see what Warden would do, changing nothing
  warden run                  start the daemon
  warden status               health, open tickets, mode
  npm run demo                the whole loop on a lab of real processes`);
  const globals = (): GlobalOpts => program.opts<GlobalOpts>();
  registerLifecycle(program, globals);
  registerDoctor(program, globals);
  registerStatus(program, globals);
  registerTickets(program, globals);
  registerExplain(program, globals);
  registerPolicy(program, globals);
  registerActions(program, globals);
  registerControl(program, globals);
  registerDemo(program, globals);
  registerChaos(program, globals);
  registerLab(program);
  registerEval(program, globals);
  registerSystem(program, globals);
  registerStore(program, globals);
  registerCompletion(program);
  registerEvents(program, globals);
  registerNotify(program, globals);
  for (const c of program.commands) {
    c.exitOverride();
    for (const sub of c.commands) sub.exitOverride();
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version arrive here too, with exit code 0.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    if (e instanceof CliError) {
      if (e.message) process.stderr.write(`warden: ${e.message}\n`);
      return e.exitCode;
    }
    const err = e as Error & { code?: string };
    process.stderr.write(`warden: ${err.code ? `${err.code}: ` : ''}${err.message}\n`);
    if (process.env.WARDEN_DEBUG) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
