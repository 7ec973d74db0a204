// warden systemd-unit | install | reboots
import type { Command } from 'commander';
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from '../demo/lab.js';
import { iso } from '../lib/clock.js';
import { systemdUnit } from '../runtime/unit.js';
import { CliError, config, printJson, printTable, storeCreated, withStore, type GlobalOpts } from './common.js';

const UNIT_NAME = /^[a-zA-Z0-9:_.@-]+$/;

export function registerSystem(program: Command, globals: () => GlobalOpts): void {
  const unitFor = (): string => {
    const cfg = config(globals());
    return systemdUnit(cfg, { node: process.execPath, warden: join(ROOT, 'bin', 'warden'), config: cfg.file });
  };

  program.command('systemd-unit')
    .description('print a systemd unit that runs "warden run" with this config (Type=notify, watchdog, Restart=always)')
    .action(() => { process.stdout.write(unitFor()); });

  program.command('install')
    .description('write the unit to /etc/systemd/system/NAME.service, reload systemd and enable it ("systemctl disable --now NAME" revokes it)')
    .option('--name <name>', 'unit name', 'warden')
    .option('--dir <dir>', 'where units go', '/etc/systemd/system')
    .option('--now', 'also start it')
    .action((o: { name: string; dir: string; now?: boolean }) => {
      if (!UNIT_NAME.test(o.name)) throw new CliError(`invalid unit name "${o.name}"`, 2);
      const text = unitFor();
      const file = resolve(o.dir, `${o.name}.service`);
      mkdirSync(o.dir, { recursive: true });
      // Atomic: a crash never leaves systemd a half-written unit.
      const tmp = `${file}.tmp-${process.pid}`;
      writeFileSync(tmp, text);
      const fd = openSync(tmp, 'r');
      fsyncSync(fd);
      closeSync(fd);
      renameSync(tmp, file);
      process.stdout.write(`wrote ${file}\n`);
      const run = (args: string[]): void => {
        try {
          execFileSync('systemctl', args, { stdio: ['ignore', 'inherit', 'pipe'] });
        } catch (e) {
          throw new CliError(`systemctl ${args.join(' ')} failed: ${String((e as { stderr?: Buffer }).stderr ?? e).trim()}`);
        }
      };
      run(['daemon-reload']);
      run(['enable', ...(o.now ? ['--now'] : []), `${o.name}.service`]);
      process.stdout.write(`enabled ${o.name}.service${o.now ? ' and started it' : '; start it with: systemctl start ' + o.name}\n`);
    });

  program.command('reboots')
    .description('reboots of this host seen by Warden (a new boot_id; restarts of Warden itself do not count)')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => {
      const cfg = config(globals());
      const list = storeCreated(cfg.agent.dataDir) ? withStore(cfg, 'read', (s) => s.listReboots()) : [];
      if (o.json) return printJson(list.map((r) => ({ ...r, at: iso(r.at) })));
      printTable(list.map((r) => ({ seq: String(r.seq), 'first seen': iso(r.at)!, 'boot id': r.bootId, previous: r.previousBootId })), 'no reboots recorded');
    });
}
