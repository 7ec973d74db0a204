// warden init | validate | schema | reconcile --once | run
import type { Command } from 'commander';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { systemClock } from '../lib/clock.js';
import { jsonSchema } from '../config/jsonschema.js';
import { ConfigError, formatIssue, loadConfig, loadLocated, type LocatedConfig } from '../config/load.js';
import { preflightIssues } from '../config/preflight.js';
import { exampleConfig } from '../config/template.js';
import { decideSettled } from '../domain/settle.js';
import { logEvidence } from '../diagnosis/gather.js';
import { diagnose } from '../diagnosis/rules.js';
import { readDecideInput } from '../loop/reconciler.js';
import { firingByService } from '../domain/alerts.js';
import { heldAlerts } from '../views/alerts.js';
import type { ReconcileReport, ServiceSpec, World } from '../domain/types.js';
import { ProcessDriver } from '../kinds/process/driver.js';
import { ProcessSupervisor } from '../kinds/process/supervisor.js';
import { HostedPodmanDriver } from '../kinds/container/hosts.js';
import { HostedSystemdDriver } from '../kinds/systemd/hosts.js';
import { Transports } from '../transport/index.js';
import type { ServiceDriver } from '../kinds/driver.js';
import { driverOf } from '../kinds/index.js';
import { describeUnusable, pluginStatuses, unusablePlugins } from '../plugins/index.js';
import { describeFailure } from '../daemon/self.js';
import { isWardenError } from '../lib/errors.js';
import { PRIVATE_UMASK } from '../lib/private.js';
import { Daemon } from '../daemon/daemon.js';
import { ApiConfigError } from '../runtime/api.js';
import { instanceIdOf } from '../loop/shared.js';
import { runProbe } from '../probes/index.js';
import { readBootId } from '../runtime/boot.js';
import { Store } from '../store/store.js';
import { CliError, config, printJson, storeCreated, type GlobalOpts } from './common.js';
import { reportJson } from '../views/json.js';
import { readOnly } from './status.js';

export function registerLifecycle(program: Command, globals: () => GlobalOpts): void {
  program.command('init')
    .description('write a commented example warden.yaml to --config (default ./warden.yaml)')
    .option('--force', 'overwrite an existing file')
    .action((o: { force?: boolean }) => {
      const file = resolve(globals().config);
      if (existsSync(file) && !o.force) throw new CliError(`${file} already exists; use --force to overwrite it`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, exampleConfig());
      process.stdout.write(`wrote ${file}\nnext: edit it, then "warden validate" and "warden reconcile --once"\n`);
    });

  program.command('validate')
    .description('check the config file and what it would need on this host; errors are reported as file:line:col and change nothing')
    .option('--strict', 'treat warnings (a program not on PATH, a missing cwd, an unsafe token file, a policy rule with no effect) as errors')
    .option('--json', 'print { ok, file, errors, warnings, summary } for editors and CI')
    .addHelpText('after', `
Beyond the file's syntax and schema, validate checks what would fail when Warden runs it here:
  - every start, runbook and exec-check program is on PATH (or at its path) and executable
  - every working directory exists
  - agent.api's token file exists, is not empty, and only its owner can read it
  - every policy rule matches a service, and changes a verdict no other rule already gives
Those are warnings (this may not be the host Warden runs on); --strict makes them errors.
Unknown notification event names are errors: they would mute the channel.

Exit status: 0 valid (warnings allowed unless --strict), 2 invalid.
Each finding is file:line:col: message; with --json, { file, line, col, message }.`)
    .action(async (o: { strict?: boolean; json?: boolean }) => {
      const file = globals().config;
      let loaded: LocatedConfig;
      try {
        loaded = loadLocated(file);
      } catch (e) {
        if (!(e instanceof ConfigError) || !o.json) throw e;
        printJson({ ok: false, file, errors: e.issues, warnings: [], summary: null });
        throw new CliError('', 2);
      }
      const cfg = loaded.config;
      const warnings = [
        ...preflightIssues(cfg).map(loaded.locate),
        // Valid but not runnable here: a plugin it needs is disabled on this host ("warden doctor" says more).
        ...unusablePlugins(cfg, await pluginStatuses()).map((u) => ({ file, line: 0, col: 0, message: describeUnusable(u) })),
      ];
      const failed = o.strict === true && warnings.length > 0;
      const checks = cfg.services.reduce((n, s) => n + s.checks.length, 0);
      if (o.json) {
        const summary = { agent: cfg.agent.name, mode: cfg.agent.mode, hosts: cfg.hosts.length, services: cfg.services.length, checks, rules: cfg.policy.rules.length };
        printJson({ ok: !failed, file, errors: failed ? warnings : [], warnings: failed ? [] : warnings, summary });
      } else if (failed) {
        process.stderr.write(`${warnings.map(formatIssue).join('\n')}\n`);
      } else {
        process.stdout.write(`${cfg.file}: ok — agent ${cfg.agent.name} (${cfg.agent.mode}), ${cfg.hosts.length} host(s), ${cfg.services.length} service(s), ${checks} check(s), ${cfg.policy.rules.length} policy rule(s)\n`);
        for (const w of warnings) process.stderr.write(`${formatIssue({ ...w, message: `warning: ${w.message}` })}\n`);
      }
      if (failed) throw new CliError(o.json ? '' : `${warnings.length} warning(s), and --strict makes them errors`, 2);
    });

  program.command('schema')
    .description('print the JSON Schema of warden.yaml (for editors)')
    .action(() => printJson(jsonSchema()));

  program.command('reconcile')
    .description('one recommendation-only pass: observe once, print findings and what Warden would do; changes nothing')
    .option('--once', 'run a single pass (the only form for now)')
    .option('--json', 'print JSON')
    .action(async (o: { once?: boolean; json?: boolean }) => {
      if (!o.once) throw new CliError('reconcile needs --once (the continuous loop is "warden run")', 2);
      const report = await reconcileOnce(globals().config);
      if (o.json) return printJson(reportJson(report));
      const w = (l: string): boolean => process.stdout.write(`${l}\n`);
      w(`summary: ${report.summary}`);
      w(`findings: ${report.findings.length === 0 ? 'none' : ''}`);
      for (const f of report.findings) w(`  - ${f.service}: ${f.kind}${f.dependencyDown ? ` (dependency ${f.dependencyDown} down)` : ''} — ${f.reason}`);
      w(`recommendations: ${report.recommendations.length === 0 ? 'none' : ''}`);
      for (const r of report.recommendations) w(`  - ${r.event}: ${r.action ?? 'no action'} ${r.target} — ${r.reason}`);
    });

  program.command('run')
    .description('the daemon: observe, detect, diagnose, repair under policy, verify, audit (SIGTERM/SIGINT drain and stop)')
    .option('--insecure', 'start even if the API token file, or a config holding secrets, can be read by other users (warns instead of refusing)')
    .action(async (o: { insecure?: boolean }) => {
      // Whatever the daemon creates (store, logs, pid file) is its owner's alone, started from a
      // shell as under the unit (UMask=0077). Services inherit it too, as they do under the unit.
      process.umask(PRIVATE_UMASK);
      const cfg = config(globals());
      const daemon = new Daemon(cfg, { insecure: o.insecure === true });
      try {
        await daemon.start();
      } catch (e) {
        // One timestamped line in the daemon's log, saying what to do; no stack, nothing left running.
        const what = isWardenError(e) || e instanceof ApiConfigError ? `${e.code}: ${e.message}` : describeFailure(e, 'start').reason;
        process.stderr.write(`${new Date().toISOString()} start failed: ${what}\n`);
        throw new CliError('', 1);
      }
      // SIGHUP reloads the config, validated first; a bad file keeps the running one.
      process.on('SIGHUP', () => { daemon.reload(() => loadConfig(globals().config)); });
      // SIGUSR2: a person's command was queued (warden approve, resolve, freeze...): pass now.
      process.on('SIGUSR2', () => daemon.wake());
      await new Promise<void>((done) => {
        const stop = (sig: string): void => {
          process.stdout.write(`${new Date().toISOString()} received ${sig}: draining\n`);
          daemon.stop().then(done, (e: unknown) => { process.stderr.write(`${new Date().toISOString()} stop failed: ${describeFailure(e, 'start').reason}\n`); done(); });
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}

/**
 * Observe once without the daemon and decide as it would, persisting nothing. Each check is probed
 * once and its single result taken as the verdict.
 */
export async function reconcileOnce(configPath: string): Promise<ReconcileReport> {
  const cfg = loadConfig(configPath);
  const store = storeCreated(cfg.agent.dataDir) ? Store.open(cfg.agent.dataDir, { readonly: true }) : null;
  const registry = readOnly(store);
  const sup = new ProcessSupervisor({ dataDir: cfg.agent.dataDir, instanceId: instanceIdOf(cfg), registry, clock: systemClock, onExit: () => undefined });
  const quiet = { clock: systemClock, onChange: () => undefined, onExit: () => undefined, onError: () => undefined };
  const transports = new Transports(cfg.agent.dataDir);
  transports.set(cfg.hosts);
  const containers = new HostedPodmanDriver({ ...quiet, transport: (h) => transports.get(h) });
  const drivers = { process: new ProcessDriver(sup), systemd: new HostedSystemdDriver({ ...quiet, transport: (h) => transports.get(h) }), container: containers, pod: containers };
  const units = drivers.systemd;
  const driverFor = (spec: ServiceSpec): ServiceDriver => driverOf<ServiceDriver>(drivers, spec);
  try {
    sup.adopt(cfg.services.filter((s) => s.kind === 'process'));
    units.setServices(cfg.services);
    if (cfg.services.some((s) => s.kind === 'systemd')) await units.refresh();
    containers.setServices(cfg.services);
    if (containers.hasServices()) await containers.refresh();
    const now = Date.now();
    const world: World = { at: now, services: {} };
    await Promise.all(cfg.services.map(async (s) => {
      const proc = driverFor(s).state(s);
      const checks = await Promise.all(s.checks.map(async (c) => {
        const r = proc.running ? await runProbe(c.probe, c.timeoutMs, transports.get(s.host)) : null;
        return {
          id: c.id, type: c.probe.type, healthy: r ? r.ok : null,
          consecutiveFailures: r && !r.ok ? 1 : 0, consecutiveSuccesses: r?.ok ? 1 : 0,
          last: r ? { ...r, at: now } : null, since: null,
        };
      }));
      world.services[s.name] = { name: s.name, host: s.host, process: proc, checks };
    }));
    // Decide as in recommend mode, with the daemon's reading of the store: what would be done is
    // reported, nothing is set in motion, nothing is written.
    const asRecommend = { ...cfg, agent: { ...cfg.agent, mode: 'recommend' as const } };
    const instant = { wall: now, mono: systemClock.mono(), boot: readBootId() };
    // The alerts Alertmanager sent the daemon are part of the world it decides on.
    world.alerts = firingByService(heldAlerts(store), cfg, instant);
    const out = decideSettled(readDecideInput(store, asRecommend, world, instant), (req) => {
      const spec = cfg.services.find((x) => x.name === req.problem.service);
      const logs = logEvidence(cfg, spec, spec ? driverFor(spec).logTail(spec, 50) : []);
      return { ticketId: req.ticketId, key: req.key, diagnosis: diagnose({ config: asRecommend, world, problem: req.problem, now, mono: instant.mono, boot: instant.boot, ...logs }) };
    });
    return out.report;
  } finally {
    sup.dispose();
    units.dispose();
    containers.dispose();
    await transports.closeAll();
    store?.close();
  }
}
