// The driver against a scripted systemctl: each test sets what systemd "says" before each tick and
// checks what the driver reports. Real systemd is exercised by the nspawn system tests.
import type { Clock } from '../../lib/clock.js';
import { fakeWall } from '../../testing/clock.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ExitRecord, ServiceSpec } from '../../domain/types.js';
import { commandRunner, type CommandResult, type CommandRunner } from './command.js';
import { SystemdDriver, SystemctlError } from './driver.js';
import {
  BACKUP_FAILED, BACKUP_RUNNING, BACKUP_TIMER, block, FAILED_SERVICE, NOT_FOUND_SERVICE, REPORT_SUCCEEDED,
  RUNNING_SERVICE, show,
} from './fixtures.js';
import { parseShow } from './properties.js';

const props = (text: string): Record<string, string> => ({ ...parseShow(text)[0]! });
const RUNNING = props(RUNNING_SERVICE);
const TIMER = props(BACKUP_TIMER);
const JOB_OK = { ...props(REPORT_SUCCEEDED), Id: 'backup.service' };
const JOB_FAILED = props(BACKUP_FAILED);
const JOB_RUNNING = props(BACKUP_RUNNING);
/** api.service after its main process (the run in RUNNING) exited with status 1. */
const API_FAILED: Record<string, string> = {
  ...props(FAILED_SERVICE),
  ExecMainStartTimestampMonotonic: RUNNING.ExecMainStartTimestampMonotonic!,
  ExecMainExitTimestamp: 'Mon 2026-11-23 14:03:03.412781 UTC', ExecMainExitTimestampMonotonic: '108183412781',
};
/** The job's next run (Tuesday 02:00), finished with `result`. */
const jobRunTuesday = (ok: boolean): Record<string, string> => ({
  ...JOB_FAILED, Result: ok ? 'success' : 'exit-code', ExecMainStatus: ok ? '0' : '1',
  ActiveState: ok ? 'inactive' : 'failed', SubState: ok ? 'dead' : 'failed',
  ExecMainStartTimestamp: 'Tue 2026-11-24 02:00:00.020000 UTC', ExecMainStartTimestampMonotonic: '151200020000',
  ExecMainExitTimestamp: 'Tue 2026-11-24 02:00:04.520000 UTC', ExecMainExitTimestampMonotonic: '151204520000',
  InactiveExitTimestampMonotonic: '151200015000', InactiveEnterTimestampMonotonic: '151204530000',
});

/** A scripted systemd: `units` is what `systemctl show` reports now; actions may change it. */
class FakeSystemd {
  units = new Map<string, Record<string, string>>();
  calls: string[][] = [];
  journalCalls: string[][] = [];
  showFailure: CommandResult | null = null;
  actionResult: CommandResult | null = null;
  rejectTimestampOption = false;
  onAction: (verb: string, unit: string) => void = () => {};
  journal: string[] = ['2026-11-23T14:03:03+0000 host api[812]: listening', '2026-11-23T14:03:03+0000 host systemd[1]: api.service: Main process exited, code=exited, status=1/FAILURE'];

  readonly systemctl: CommandRunner = async (args) => {
    this.calls.push(args);
    if (args[0] === 'show') {
      if (this.showFailure) return this.showFailure;
      if (this.rejectTimestampOption && args.some((a) => a.startsWith('--timestamp'))) {
        return { code: 1, stdout: '', stderr: "systemctl: unrecognized option '--timestamp=us+utc'\n" };
      }
      const units = args.slice(args.indexOf('--') + 1);
      return { code: 0, stdout: show(...units.map((u) => block(this.units.get(u) ?? { ...props(NOT_FOUND_SERVICE), Id: u }))), stderr: '' };
    }
    if (args[0] === 'is-system-running') return { code: 0, stdout: 'running\n', stderr: '' };
    if (this.actionResult) return this.actionResult;
    this.onAction(args[0]!, args[args.length - 1]!);
    return { code: 0, stdout: '', stderr: '' };
  };

  readonly journalctl: CommandRunner = async (args) => {
    this.journalCalls.push(args);
    return { code: 0, stdout: `${this.journal.join('\n')}\n`, stderr: '' };
  };

  showCalls(): string[][] {
    return this.calls.filter((c) => c[0] === 'show').map((c) => c.slice(c.indexOf('--') + 1));
  }
}

function spec(name: string, unit: string): ServiceSpec {
  return {
    name, host: 'local', kind: 'systemd', start: [], unit, cwd: '/', env: {}, stopSignal: 'SIGTERM', stopGraceMs: 1000,
    dependsOn: [], checks: [], runbooks: [], logMaxBytes: 1, logKeep: 1,
  };
}

interface Setup {
  sd: FakeSystemd;
  driver: SystemdDriver;
  exits: { service: string; exit: ExitRecord }[];
  changes: string[];
  errors: unknown[];
  clock: Clock & { t: number };
}

function setup(specs: ServiceSpec[], units: Record<string, Record<string, string>>, over: { pollMs?: number } = {}): Setup {
  const sd = new FakeSystemd();
  for (const [u, p] of Object.entries(units)) sd.units.set(u, p);
  const wall = { t: Date.UTC(2026, 10, 23, 15) };
  const clock = Object.assign(fakeWall(() => wall.t), { get t() { return wall.t; }, set t(v: number) { wall.t = v; } });
  const s: Setup = { sd, exits: [], changes: [], errors: [], clock, driver: null as unknown as SystemdDriver };
  s.driver = new SystemdDriver({
    clock, systemctl: sd.systemctl, journalctl: sd.journalctl, pollMs: over.pollMs ?? 250,
    onExit: (service, exit) => s.exits.push({ service, exit }),
    onChange: (service) => s.changes.push(service),
    onError: (err) => s.errors.push(err),
  });
  s.driver.setServices(specs);
  return s;
}

const api = spec('api', 'api.service');
const backup = spec('backup', 'backup.timer');

test('one systemctl show per tick for every unit, timers’ jobs included', async () => {
  const s = setup([api, spec('api-alias', 'api.service'), backup, spec('proc', 'x')].map((x, i) => (i === 3 ? { ...x, kind: 'process' as const, unit: null } : x)),
    { 'api.service': RUNNING, 'backup.timer': TIMER, 'backup.service': JOB_OK });
  await s.driver.refresh();
  // First tick learns the timer's job and fetches it at once.
  assert.deepEqual(s.sd.showCalls(), [['api.service', 'backup.timer'], ['backup.service']]);
  s.sd.calls = [];
  await s.driver.refresh();
  assert.deepEqual(s.sd.showCalls(), [['api.service', 'backup.timer', 'backup.service']]);
  const st = s.driver.state(api);
  assert.equal(st.running, true);
  assert.equal(st.pid, 812);
  assert.equal(st.startedAt, Date.UTC(2026, 10, 23, 14, 2, 3, 412));
  assert.equal(st.unknown, undefined);
  assert.equal(st.facts?.ActiveState, 'active');
  assert.equal(s.driver.state(backup).running, true);
  assert.equal(s.driver.state(backup).failing, undefined);
});

test('a unit stopped by its host shutting down is unknown, not an exit (and judged again once the host runs)', async () => {
  const s = setup([api], { 'api.service': RUNNING });
  let systemState = 'running';
  const base = s.sd.systemctl;
  s.driver = new SystemdDriver({
    clock: s.clock, journalctl: s.sd.journalctl, onExit: (service, exit) => s.exits.push({ service, exit }), onChange: (x) => s.changes.push(x),
    systemctl: async (args, o) => (args[0] === 'is-system-running' ? { code: 1, stdout: `${systemState}\n`, stderr: '' } : base(args, o)),
  });
  s.driver.setServices([api]);
  await s.driver.refresh();
  systemState = 'stopping';
  s.sd.units.set('api.service', API_FAILED);
  await s.driver.refresh();
  assert.deepEqual(s.exits, [], 'the shutdown stopped it: no exit to repair');
  assert.match(s.driver.state(api).unknown ?? '', /the host is shutting down/);
  // Back after the reboot: the unit runs again and is judged as usual.
  systemState = 'running';
  s.sd.units.set('api.service', RUNNING);
  await s.driver.refresh();
  assert.equal(s.driver.state(api).unknown, undefined);
  assert.equal(s.driver.state(api).running, true);
});

/** A driver whose `systemctl is-system-running` answers what `answer` returns now (null: no answer at all). */
function withSystemState(s: Setup, answer: () => CommandResult): void {
  const base = s.sd.systemctl;
  s.driver = new SystemdDriver({
    clock: s.clock, journalctl: s.sd.journalctl, onExit: (service, exit) => s.exits.push({ service, exit }), onChange: (x) => s.changes.push(x),
    systemctl: async (args, o) => (args[0] === 'is-system-running' ? answer() : base(args, o)),
  });
  s.driver.setServices([api]);
}

/** The exit codes reported so far (read through a function: the assertions above narrowed `exits` to []). */
const codes = (s: Setup): (number | null)[] => s.exits.map((e) => e.exit.code);
const SAYS = (state: string): CommandResult => ({ code: state === 'running' ? 0 : 1, stdout: `${state}\n`, stderr: '' });
/** What the ssh transport's runner gives when the connection died under the command. */
const NO_ANSWER: CommandResult = { code: null, stdout: '', stderr: 'host c unreachable over SSH: Connection closed by 10.200.1.4 port 22' };

test('a unit seen down while nobody can say whether the host shuts down is not judged that tick', async () => {
  // An orderly poweroff stops the unit and the SSH sessions at once: systemctl show may still get
  // through and is-system-running not. Nothing is known then, so nothing is an exit (yet).
  const s = setup([api], { 'api.service': RUNNING });
  let reply: CommandResult = SAYS('running');
  withSystemState(s, () => reply);
  await s.driver.refresh();
  reply = NO_ANSWER;
  s.sd.units.set('api.service', API_FAILED);
  await s.driver.refresh();
  assert.deepEqual(s.exits, [], 'no exit while the host may be shutting down');
  assert.match(s.driver.state(api).unknown ?? '', /whether the host is shutting down/);
  // A real failure on a host that runs on is still an exit, once the host says so.
  reply = SAYS('running');
  await s.driver.refresh();
  assert.deepEqual(codes(s), [1]);
});

test('a host seen stopping stays stopping until it says otherwise, and its next boot is not an exit', async () => {
  const s = setup([api], { 'api.service': RUNNING });
  let reply: CommandResult = SAYS('running');
  withSystemState(s, () => reply);
  await s.driver.refresh();
  reply = SAYS('stopping');
  s.sd.units.set('api.service', { ...RUNNING, ActiveState: 'deactivating', SubState: 'stop-sigterm' });
  await s.driver.refresh();
  // The sessions are gone: no answer. Then the unit is seen stopped through a new connection.
  reply = NO_ANSWER;
  s.sd.units.set('api.service', API_FAILED);
  await s.driver.refresh();
  await s.driver.refresh();
  assert.deepEqual(s.exits, [], 'the shutdown stopped it');
  assert.match(s.driver.state(api).unknown ?? '', /the host is shutting down/);
  // Rebooted: the unit runs again, a new run since the one Warden last saw.
  reply = SAYS('running');
  s.sd.units.set('api.service', {
    ...RUNNING, MainPID: '91', ExecMainPID: '91',
    ExecMainStartTimestamp: 'Mon 2026-11-23 14:09:00.000000 UTC', ExecMainStartTimestampMonotonic: '4000000',
    ActiveEnterTimestampMonotonic: '4000100', InactiveExitTimestampMonotonic: '3999000',
  });
  await s.driver.refresh();
  assert.deepEqual(s.exits, [], 'the run the shutdown ended is not news after the reboot');
  assert.equal(s.driver.state(api).running, true);
  assert.equal(s.driver.state(api).pid, 91);
});

test('running → failed: exactly one onExit with its status; seen again, nothing new', async () => {
  const s = setup([api], { 'api.service': RUNNING });
  await s.driver.refresh();
  assert.equal(s.exits.length, 0);
  s.changes = [];
  s.sd.units.set('api.service', API_FAILED);
  await s.driver.refresh();
  await s.driver.refresh();
  assert.deepEqual(s.exits, [{ service: 'api', exit: { at: Date.UTC(2026, 10, 23, 14, 3, 3, 412), code: 1, signal: null, uptimeMs: 60_000 } }]);
  assert.deepEqual(s.changes, ['api']);
  const st = s.driver.state(api);
  assert.equal(st.running, false);
  assert.equal(st.pid, null);
  assert.equal(st.exits.length, 1);
  assert.equal(st.facts?.Result, 'exit-code');
});

test('NRestarts rising between polls is reported: systemd hid those crashes', async () => {
  const s = setup([api], { 'api.service': RUNNING });
  await s.driver.refresh();
  s.sd.units.set('api.service', { ...RUNNING, MainPID: '990', ExecMainPID: '990', NRestarts: '2', ExecMainStartTimestampMonotonic: '108200000000' });
  await s.driver.refresh();
  assert.equal(s.exits.length, 2);
  assert.ok(s.exits.every((e) => e.exit.code === null && e.exit.signal === null && e.exit.byWarden === undefined));
  const st = s.driver.state(api);
  assert.equal(st.running, true);
  assert.equal(st.pid, 990);
  assert.equal(st.exits.length, 2);
});

test('between states (activating, deactivating) exits are counted once the unit settles, with their status', async () => {
  const s = setup([api], { 'api.service': RUNNING });
  await s.driver.refresh();
  // A stop seen mid-way: the main process has not exited yet, so there is no status to report.
  s.sd.units.set('api.service', { ...RUNNING, ActiveState: 'deactivating', SubState: 'stop-sigterm' });
  await s.driver.refresh();
  assert.equal(s.exits.length, 0);
  assert.match(s.driver.state(api).unknown ?? '', /deactivating \(stop-sigterm\)/);
  s.sd.units.set('api.service', { ...API_FAILED, Result: 'signal', ExecMainCode: '2', ExecMainStatus: '15' });
  await s.driver.refresh();
  assert.deepEqual(s.exits.map((e) => e.exit.signal), ['SIGTERM']);
  // Started again, seen while activating, then up: no exit; a restart seen mid-way: one.
  const next = { ...RUNNING, MainPID: '1600', ExecMainPID: '1600', ExecMainStartTimestampMonotonic: '108400000000' };
  s.sd.units.set('api.service', { ...next, ActiveState: 'activating', SubState: 'start' });
  await s.driver.refresh();
  s.sd.units.set('api.service', next);
  await s.driver.refresh();
  assert.equal(s.exits.length, 1);
  s.sd.units.set('api.service', { ...next, ActiveState: 'activating', SubState: 'start-pre', MainPID: '0' });
  await s.driver.refresh();
  s.sd.units.set('api.service', { ...next, MainPID: '1700', ExecMainPID: '1700', ExecMainStartTimestampMonotonic: '108500000000' });
  await s.driver.refresh();
  assert.equal(s.exits.length, 2);
});

test('timer: a failed job run sets failing once; a run in progress keeps it; a good run clears it', async () => {
  const s = setup([backup], { 'backup.timer': TIMER, 'backup.service': JOB_OK });
  await s.driver.refresh();
  assert.equal(s.driver.state(backup).failing, undefined);
  s.sd.units.set('backup.service', JOB_RUNNING);
  await s.driver.refresh();
  assert.equal(s.driver.state(backup).failing, undefined);
  s.sd.units.set('backup.service', jobRunTuesday(false));
  s.changes = [];
  await s.driver.refresh();
  await s.driver.refresh();
  const st = s.driver.state(backup);
  assert.equal(st.running, true, 'the timer itself is active');
  assert.equal(st.failing, "backup.service's last run failed: exit-code, status 1");
  assert.deepEqual(s.exits, [{ service: 'backup', exit: { at: Date.UTC(2026, 10, 24, 2, 0, 4, 520), code: 1, signal: null, uptimeMs: 4500 } }]);
  assert.deepEqual(s.changes, ['backup']);
  // The next run starts: systemd resets Result, but until it ends the last verdict stands.
  s.sd.units.set('backup.service', { ...JOB_RUNNING, InactiveEnterTimestampMonotonic: '151204530000', InactiveExitTimestampMonotonic: '237600015000' });
  await s.driver.refresh();
  assert.equal(s.driver.state(backup).failing, "backup.service's last run failed: exit-code, status 1");
  s.sd.units.set('backup.service', { ...jobRunTuesday(true), InactiveExitTimestampMonotonic: '237600015000', InactiveEnterTimestampMonotonic: '237601000000' });
  s.changes = [];
  await s.driver.refresh();
  assert.equal(s.driver.state(backup).failing, undefined);
  assert.equal(s.exits.length, 1, 'a good run is not an exit');
  assert.deepEqual(s.changes, ['backup']);
});

test('failed before Warden looked: the exit is remembered, not announced', async () => {
  const s = setup([api, backup], { 'api.service': API_FAILED, 'backup.timer': TIMER, 'backup.service': JOB_FAILED });
  await s.driver.refresh();
  assert.equal(s.exits.length, 0);
  assert.deepEqual(s.driver.state(api).exits.map((e) => e.code), [1]);
  const b = s.driver.state(backup);
  assert.equal(b.failing, "backup.service's last run failed: exit-code, status 1");
  assert.deepEqual(b.exits.map((e) => e.code), [1]);
});

test('a unit that is not installed reads as a failed deployment (spawnError)', async () => {
  const s = setup([spec('ghost', 'ghost.service')], {});
  await s.driver.refresh();
  const st = s.driver.state(spec('ghost', 'ghost.service'));
  assert.equal(st.running, false);
  assert.match(st.spawnError ?? '', /not-found/);
});

test('stop, start, restart: the right argv, re-observed at once, exits marked as Warden’s', async () => {
  const s = setup([api], { 'api.service': RUNNING });
  await s.driver.refresh();
  s.sd.onAction = (verb, unit) => {
    if (verb === 'stop') {
      s.sd.units.set(unit, { ...RUNNING, MainPID: '0', ActiveState: 'inactive', SubState: 'dead', ExecMainCode: '2', ExecMainStatus: '15', ExecMainExitTimestampMonotonic: '108183412781', ExecMainExitTimestamp: 'Mon 2026-11-23 14:03:03.412781 UTC' });
    } else {
      s.sd.units.set(unit, { ...RUNNING, MainPID: '1500', ExecMainPID: '1500', ExecMainStartTimestampMonotonic: String(108300000000 + s.sd.calls.length) });
    }
  };
  s.sd.calls = [];
  await s.driver.stop(api);
  assert.deepEqual(s.sd.calls[0], ['stop', '--no-ask-password', '--', 'api.service']);
  assert.equal(s.sd.calls[1]?.[0], 'show', 're-observed right after the action');
  assert.deepEqual(s.exits.map((e) => [e.exit.signal, e.exit.byWarden]), [['SIGTERM', true]]);
  assert.equal(s.driver.state(api).running, false);

  assert.deepEqual(await s.driver.start(api), { pid: 1500 });
  assert.deepEqual(s.sd.calls.at(-2), ['start', '--no-ask-password', '--', 'api.service']);
  assert.equal(s.exits.length, 1, 'a start ends nothing');
  assert.deepEqual(await s.driver.restart(api), { pid: 1500 });
  assert.deepEqual(s.sd.calls.at(-2), ['restart', '--no-ask-password', '--', 'api.service']);
  assert.deepEqual(s.exits.map((e) => e.exit.byWarden), [true, true], 'the run the restart ended is Warden’s doing');
  await s.driver.refresh();
  assert.equal(s.exits.length, 2);
});

test('a failed action rejects with SYSTEMCTL_FAILED, its status and stderr', async () => {
  const s = setup([api], { 'api.service': RUNNING });
  const stderr = 'Job for api.service failed because the control process exited with error code.\nSee "systemctl status api.service" and "journalctl -xeu api.service" for details.\n';
  s.sd.actionResult = { code: 1, stdout: '', stderr };
  await assert.rejects(s.driver.restart(api), (err: unknown) => {
    assert.ok(err instanceof SystemctlError);
    assert.equal(err.code, 'SYSTEMCTL_FAILED');
    assert.equal(err.status, 1);
    assert.equal(err.stderr, stderr);
    assert.deepEqual(err.argv, ['restart', '--no-ask-password', '--', 'api.service']);
    assert.equal(err.retryable, true);
    assert.match(err.message, /status 1.*Job for api.service failed/);
    return true;
  });
  s.sd.actionResult = { code: 5, stdout: '', stderr: 'Failed to start ghost.service: Unit ghost.service not found.\n' };
  await assert.rejects(s.driver.start(spec('ghost', 'ghost.service')), (err: unknown) => err instanceof SystemctlError && !err.retryable);
  await assert.rejects(s.driver.start({ ...api, kind: 'process', unit: null }), { code: 'NOT_SYSTEMD' });
});

test('no systemd on this host: reported once per outage, state unknown, the poll never throws', async () => {
  const s = setup([api], { 'api.service': RUNNING });
  s.sd.showFailure = { code: 1, stdout: '', stderr: "System has not been booted with systemd as init system (PID 1). Can't operate.\nFailed to connect to bus: Host is down\n" };
  await s.driver.refresh();
  await s.driver.refresh();
  assert.equal(s.errors.length, 1);
  const st = s.driver.state(api);
  assert.equal(st.running, false);
  assert.match(st.unknown ?? '', /^cannot observe api.service: .*System has not been booted/);
  s.sd.showFailure = null;
  await s.driver.refresh();
  assert.equal(s.driver.state(api).running, true);
  assert.equal(s.driver.state(api).unknown, undefined);
  // Blind while running, running after: no exit is invented.
  s.sd.showFailure = { code: 1, stdout: '', stderr: 'Failed to connect to bus: Connection refused\n' };
  await s.driver.refresh();
  s.sd.showFailure = null;
  await s.driver.refresh();
  assert.equal(s.errors.length, 2);
  assert.equal(s.exits.length, 0);
});

test('a missing systemctl binary is an answer, not an exception', async () => {
  const run = commandRunner('/nonexistent/systemctl');
  const res = await run(['show'], { timeoutMs: 1000 });
  assert.equal(res.code, null);
  assert.match(res.stderr, /ENOENT/);
  const errors: unknown[] = [];
  const d = new SystemdDriver({ clock: fakeWall(() => 0), systemctl: run, journalctl: run, onExit: () => {}, onChange: () => {}, onError: (e) => errors.push(e) });
  d.setServices([api]);
  await d.refresh();
  assert.equal(errors.length, 1);
  assert.match(d.state(api).unknown ?? '', /ENOENT/);
});

test('systemctl without --timestamp (systemd < 248): the option is dropped for good', async () => {
  const s = setup([api], { 'api.service': { ...RUNNING, ExecMainStartTimestamp: 'Mon 2026-11-23 14:02:03 UTC' } });
  s.sd.rejectTimestampOption = true;
  await s.driver.refresh();
  await s.driver.refresh();
  assert.equal(s.errors.length, 0);
  assert.deepEqual(s.sd.calls.map((c) => c.some((a) => a.startsWith('--timestamp'))), [true, false, false]);
  assert.equal(s.driver.state(api).startedAt, Date.UTC(2026, 10, 23, 14, 2, 3));
});

test('the journal tail is fetched before an exit is announced; a timer’s includes its job', async () => {
  const s = setup([api, backup], { 'api.service': RUNNING, 'backup.timer': TIMER, 'backup.service': JOB_OK });
  let seenInOnExit: string[] = [];
  await s.driver.refresh();
  s.sd.journalCalls = [];
  s.sd.journal = ['2026-11-23T14:03:03+0000 host systemd[1]: api.service: Failed with result \'exit-code\'.'];
  const d = new SystemdDriver({
    clock: s.clock, systemctl: s.sd.systemctl, journalctl: s.sd.journalctl,
    onExit: () => { seenInOnExit = d.logTail(api, 50); }, onChange: () => {},
  });
  d.setServices([api, backup]);
  await d.refresh();
  s.sd.units.set('api.service', API_FAILED);
  await d.refresh();
  assert.deepEqual(seenInOnExit, s.sd.journal);
  assert.ok(!s.sd.journalCalls.some((c) => c.includes('backup.timer')), 'a healthy unit’s journal is not read until asked');
  await d.refreshLogs(backup);
  assert.ok(s.sd.journalCalls.some((c) => c.join(' ') === '--no-pager --quiet -o short-iso -n 50 -u backup.timer -u backup.service'));
  assert.deepEqual(d.logTail(api, 1), s.sd.journal.slice(-1));
});

test('startPolling ticks every pollMs until dispose; state is real once it resolves', async () => {
  const s = setup([api], { 'api.service': { ...RUNNING, MainPID: String(process.pid) } }, { pollMs: 5 });
  await s.driver.startPolling();
  const st = s.driver.state(api);
  assert.equal(st.running, true);
  assert.match(st.procState ?? '', /^[RS]$/, 'read from /proc/MainPID/stat');
  await new Promise((r) => setTimeout(r, 60));
  s.driver.dispose();
  const n = s.sd.showCalls().length;
  assert.ok(n >= 4, `polled ${n} times`);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(s.sd.showCalls().length, n, 'no tick after dispose');
});
