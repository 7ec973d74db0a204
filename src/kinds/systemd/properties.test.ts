import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AUTO_RESTART_SERVICE, BACKUP_FAILED, BACKUP_RUNNING, BACKUP_TIMER, FAILED_SERVICE, KILLED_SERVICE, NOT_FOUND_SERVICE,
  ONESHOT_REMAIN, REPORT_SUCCEEDED, REPORT_TIMER, RUNNING_SERVICE, show,
} from './fixtures.js';
import {
  mainExit, mainUptimeMs, parseShow, parseTimestamp, SHOW_PROPERTIES, showArgs, signalName, str, triggeredUnitOf,
  unitHealth, type UnitProperties,
} from './properties.js';
import { exitAtFirstSight, exitsBetween, lastJobRun } from './transitions.js';

const one = (text: string): UnitProperties => {
  const blocks = parseShow(text);
  assert.equal(blocks.length, 1);
  return blocks[0]!;
};

test('showArgs asks for every property in one -p, units after --', () => {
  assert.deepEqual(showArgs(['a.service', 'b.timer']), ['show', '--no-pager', '--timestamp=us+utc', '-p', SHOW_PROPERTIES.join(','), '--', 'a.service', 'b.timer']);
  assert.ok(!showArgs(['a.service'], false).some((a) => a.startsWith('--timestamp')));
});

test('parseShow splits blocks at empty lines, keeps empty values and values containing =', () => {
  const blocks = parseShow(show(RUNNING_SERVICE, BACKUP_TIMER, 'Id=x.service\nStatusText=a=b\n'));
  assert.equal(blocks.length, 3);
  assert.equal(blocks[0]!.Id, 'api.service');
  assert.equal(blocks[0]!.ExecMainExitTimestamp, '');
  assert.equal(blocks[1]!.Id, 'backup.timer');
  assert.equal(blocks[1]!.MainPID, undefined, 'a timer has no MainPID: absent, not empty');
  assert.equal(blocks[2]!.StatusText, 'a=b');
  assert.deepEqual(parseShow(''), []);
});

test('str: empty, [not set] and n/a are no value', () => {
  assert.equal(str({ A: '', B: '[not set]', C: 'n/a', D: 'x' }, 'A'), null);
  assert.equal(str({ B: '[not set]' }, 'B'), null);
  assert.equal(str({ C: 'n/a' }, 'C'), null);
  assert.equal(str({ D: 'x' }, 'D'), 'x');
  assert.equal(str({}, 'E'), null);
});

test('parseTimestamp reads us+utc, utc, unix; refuses ambiguous local zones', () => {
  const base = Date.UTC(2026, 10, 23, 14, 2, 3);
  assert.equal(parseTimestamp('Mon 2026-11-23 14:02:03.412781 UTC'), base + 412);
  assert.equal(parseTimestamp('Mon 2026-11-23 14:02:03 UTC'), base);
  assert.equal(parseTimestamp('@1795442523'), base);
  assert.equal(parseTimestamp('Mon 2026-11-23 15:02:03 CET'), null);
  assert.equal(parseTimestamp(''), null);
  assert.equal(parseTimestamp('n/a'), null);
  assert.equal(parseTimestamp(undefined), null);
});

test('signalName maps numbers through os.constants.signals', () => {
  assert.equal(signalName(9), 'SIGKILL');
  assert.equal(signalName(15), 'SIGTERM');
  assert.equal(signalName(6), 'SIGABRT');
  assert.equal(signalName(200), 'signal 200');
});

test('running service: running, no exit, facts typed', () => {
  const h = unitHealth(one(RUNNING_SERVICE));
  assert.equal(h.running, true);
  assert.equal(h.failing, null);
  assert.equal(h.exit, null);
  assert.equal(h.unknown, null);
  assert.equal(h.facts.MainPID, 812);
  assert.equal(h.facts.NRestarts, 0);
  assert.equal(h.facts.ExecMainStartTimestamp, '2026-11-23T14:02:03.412Z');
  assert.equal(h.facts.ExecMainExitTimestamp, null);
  assert.equal(h.facts.StatusText, 'Ready. Accepting connections.');
  assert.ok(!('ExecMainStartTimestampMonotonic' in h.facts), 'monotonic stamps are noise for people');
});

test('killed service with Restart=no: down, signal SIGKILL, uptime from monotonic stamps', () => {
  const p = one(KILLED_SERVICE);
  const h = unitHealth(p);
  assert.equal(h.running, false);
  assert.deepEqual(h.exit, { code: null, signal: 'SIGKILL' });
  assert.equal(h.facts.Result, 'signal');
  assert.equal(mainUptimeMs(p), 300_250);
  assert.deepEqual(exitAtFirstSight({ props: p, running: false }), {
    code: null, signal: 'SIGKILL', at: Date.UTC(2026, 10, 23, 14, 7, 3, 350), uptimeMs: 300_250,
  });
});

test('failed service: exit code 1', () => {
  const h = unitHealth(one(FAILED_SERVICE));
  assert.equal(h.running, false);
  assert.deepEqual(h.exit, { code: 1, signal: null });
  assert.equal(h.unknown, null);
});

test('auto-restart: down now (not "starting"), NRestarts as a fact', () => {
  const h = unitHealth(one(AUTO_RESTART_SERVICE));
  assert.equal(h.running, false);
  assert.equal(h.unknown, null);
  assert.deepEqual(h.exit, { code: 2, signal: null });
  assert.equal(h.facts.NRestarts, 3);
  assert.equal(h.facts.SubState, 'auto-restart');
});

test('activating (not auto-restart) and deactivating are unknown, not down', () => {
  const h = unitHealth({ ...one(RUNNING_SERVICE), ActiveState: 'activating', SubState: 'start' });
  assert.equal(h.running, false);
  assert.equal(h.unknown, 'api.service is activating (start)');
  assert.match(unitHealth({ ...one(RUNNING_SERVICE), ActiveState: 'deactivating', SubState: 'stop-sigterm' }).unknown ?? '', /deactivating/);
  assert.equal(unitHealth({ ...one(RUNNING_SERVICE), ActiveState: 'reloading', SubState: 'reload' }).running, true);
});

test('oneshot with RemainAfterExit=yes: active (exited) is running, with no process', () => {
  const h = unitHealth(one(ONESHOT_REMAIN));
  assert.equal(h.running, true);
  assert.equal(h.facts.MainPID, 0);
  assert.deepEqual(mainExit(one(ONESHOT_REMAIN)), { code: 0, signal: null });
});

test('not-found unit: cannot run at all (a deployment problem), with the load error', () => {
  const h = unitHealth(one(NOT_FOUND_SERVICE));
  assert.equal(h.running, false);
  assert.equal(h.notLoaded, 'ghost.service is not-found: org.freedesktop.systemd1.NoSuchUnit "Unit ghost.service not found."');
  // A unit whose file vanished while it runs is still running.
  assert.equal(unitHealth({ ...one(RUNNING_SERVICE), LoadState: 'not-found' }).running, true);
});

test('timer active while its job failed: running but failing, with the job exit', () => {
  const timer = one(BACKUP_TIMER);
  assert.equal(triggeredUnitOf(timer), 'backup.service');
  const h = unitHealth(timer, one(BACKUP_FAILED));
  assert.equal(h.running, true);
  assert.equal(h.failing, "backup.service's last run failed: exit-code, status 1");
  assert.deepEqual(h.exit, { code: 1, signal: null });
  assert.equal(h.facts.TriggeredResult, 'exit-code');
  assert.equal(h.facts.TriggeredExecMainStatus, 1);
  assert.equal(h.facts.LastTriggerUSec, '2026-11-23T02:00:00.000Z');
  assert.equal(h.facts.NextElapseUSecRealtime, '2026-11-24T02:00:00.000Z');
  const killed = unitHealth(timer, { ...one(BACKUP_FAILED), Result: 'signal', ExecMainCode: '2', ExecMainStatus: '15' });
  assert.equal(killed.failing, "backup.service's last run failed: signal, SIGTERM");
  assert.equal(unitHealth(timer, { ...one(BACKUP_FAILED), Result: 'timeout', ExecMainCode: '0' }).failing, "backup.service's last run failed: timeout");
});

test('timer active whose job succeeded: healthy', () => {
  const h = unitHealth(one(REPORT_TIMER), one(REPORT_SUCCEEDED));
  assert.equal(h.running, true);
  assert.equal(h.failing, null);
  assert.equal(h.jobInProgress, false);
});

test('timer whose job runs now: no verdict from the reset Result (the driver keeps the last one)', () => {
  const h = unitHealth(one(BACKUP_TIMER), one(BACKUP_RUNNING));
  assert.equal(h.running, true);
  assert.equal(h.failing, null);
  assert.equal(h.jobInProgress, true);
});

test('timer whose job is not installed is failing; a stopped timer is down', () => {
  const ghost = { ...one(NOT_FOUND_SERVICE), Id: 'backup.service' };
  assert.equal(unitHealth(one(BACKUP_TIMER), ghost).failing, 'backup.timer triggers backup.service, which is not-found');
  assert.equal(unitHealth({ ...one(BACKUP_TIMER), ActiveState: 'inactive', SubState: 'dead' }, one(BACKUP_FAILED)).running, false);
  assert.equal(unitHealth({ ...one(BACKUP_TIMER), SubState: 'elapsed' }).running, true);
});

test('no ActiveState at all: unknown', () => {
  assert.match(unitHealth({ Id: 'x.service' }).unknown ?? '', /no ActiveState/);
});

// ---------------------------------------------------------------- transitions

const running = one(RUNNING_SERVICE);
const obs = (props: UnitProperties, isRunning: boolean) => ({ props, running: isRunning });
/** The same service after its main process ended (as `systemctl show` shows it then). */
const ended = (over: Record<string, string>): UnitProperties => ({
  ...running, MainPID: '0', ActiveState: 'failed', SubState: 'failed', Result: 'exit-code', ExecMainCode: '1', ExecMainStatus: '1',
  ExecMainExitTimestamp: 'Mon 2026-11-23 14:03:03.412781 UTC', ExecMainExitTimestampMonotonic: '108183412781', ...over,
});
/** A new run of the main process, started `n` restarts later. */
const rerun = (startUs: number, nRestarts: number): UnitProperties => ({
  ...running, MainPID: String(900 + nRestarts), ExecMainPID: String(900 + nRestarts),
  ExecMainStartTimestampMonotonic: String(startUs), NRestarts: String(nRestarts),
});

test('exitsBetween: running → failed is one exit with its status', () => {
  const exits = exitsBetween(obs(running, true), obs(ended({}), false));
  assert.deepEqual(exits, [{ code: 1, signal: null, at: Date.UTC(2026, 10, 23, 14, 3, 3, 412), uptimeMs: 60_000 }]);
  assert.deepEqual(exitsBetween(obs(ended({}), false), obs(ended({}), false)), [], 'the same failure seen again is not news');
});

test('exitsBetween: a restart systemd did between two polls still counts (NRestarts)', () => {
  const exits = exitsBetween(obs(running, true), obs(rerun(108200000000, 2), true));
  assert.equal(exits.length, 2, 'two restarts between the looks: two exits');
  assert.ok(exits.every((e) => e.code === null && e.signal === null && e.at === null), 'their status is gone');
});

test('exitsBetween: auto-restart then running again counts the exit once', () => {
  const waiting = ended({ ActiveState: 'activating', SubState: 'auto-restart' });
  assert.equal(exitsBetween(obs(running, true), obs(waiting, false)).length, 1);
  assert.equal(exitsBetween(obs(waiting, false), obs(rerun(108200000000, 1), true)).length, 0);
  // Died again before the next look: the new run's exit, with its status.
  const again = { ...ended({ ActiveState: 'activating', SubState: 'auto-restart', NRestarts: '1' }), ExecMainStartTimestampMonotonic: '108190000000', ExecMainExitTimestampMonotonic: '108190500000' };
  assert.deepEqual(exitsBetween(obs(waiting, false), obs(again, false)).map((e) => e.code), [1]);
});

test('exitsBetween: a manual restart (counter flushed, new start stamp) is one exit', () => {
  assert.equal(exitsBetween(obs(rerun(108200000000, 3), true), obs(rerun(108300000000, 0), true)).length, 1);
  assert.equal(exitsBetween(obs(running, true), obs(running, true)).length, 0);
});

test('lastJobRun: a finished run by its Inactive* stamps; none while it runs', () => {
  const run = lastJobRun(one(BACKUP_FAILED));
  assert.equal(run?.ok, false);
  assert.equal(run?.endUs, 64804530000);
  assert.deepEqual(run?.exit, { code: 1, signal: null, at: Date.UTC(2026, 10, 23, 2, 0, 4, 520), uptimeMs: 4500 });
  assert.equal(lastJobRun(one(BACKUP_RUNNING)), null);
  assert.equal(lastJobRun(one(REPORT_SUCCEEDED))?.ok, true);
});
