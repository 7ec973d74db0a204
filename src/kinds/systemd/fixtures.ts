// `systemctl show --timestamp=us+utc -p <SHOW_PROPERTIES>` output as systemd 252 (Debian bookworm)
// prints it: the type's own interface (Service, Timer) first, then Unit properties; requested but
// empty properties as `Name=`; properties the unit type lacks left out. The host booted at
// Sun 2026-11-22 08:00:00 UTC, so every ...Monotonic value is (wall time - boot) in microseconds.
// A timer's NextElapseUSecRealtime/LastTriggerUSec ignore --timestamp before systemd 259, so they
// come in the default form (whole seconds, the zone of TZ, which the driver sets to UTC).
// Test data only (not itself a test file).

/** Renders properties the way systemctl does: one KEY=VALUE line each. */
export function block(props: Record<string, string>): string {
  return Object.entries(props).map(([k, v]) => `${k}=${v}\n`).join('');
}

/** Several units' blocks as one `systemctl show a b ...` prints them: an empty line between. */
export function show(...blocks: string[]): string {
  return blocks.join('\n');
}

export const RUNNING_SERVICE = `Type=notify
Restart=on-failure
RemainAfterExit=no
MainPID=812
Result=success
NRestarts=0
ExecMainStartTimestamp=Mon 2026-11-23 14:02:03.412781 UTC
ExecMainStartTimestampMonotonic=108123412781
ExecMainExitTimestamp=
ExecMainExitTimestampMonotonic=0
ExecMainPID=812
ExecMainCode=0
ExecMainStatus=0
StatusText=Ready. Accepting connections.
Id=api.service
Triggers=
LoadState=loaded
ActiveState=active
SubState=running
ActiveEnterTimestamp=Mon 2026-11-23 14:02:03.455012 UTC
InactiveEnterTimestamp=
InactiveEnterTimestampMonotonic=0
InactiveExitTimestampMonotonic=108123400120
`;

/** `kill -9` of the main process; Restart=no, so systemd leaves it failed. */
export const KILLED_SERVICE = `Type=simple
Restart=no
RemainAfterExit=no
MainPID=0
Result=signal
NRestarts=0
ExecMainStartTimestamp=Mon 2026-11-23 14:02:03.100000 UTC
ExecMainStartTimestampMonotonic=108123100000
ExecMainExitTimestamp=Mon 2026-11-23 14:07:03.350000 UTC
ExecMainExitTimestampMonotonic=108423350000
ExecMainPID=901
ExecMainCode=2
ExecMainStatus=9
StatusText=
Id=worker.service
Triggers=
LoadState=loaded
ActiveState=failed
SubState=failed
ActiveEnterTimestamp=Mon 2026-11-23 14:02:03.100350 UTC
InactiveEnterTimestamp=Mon 2026-11-23 14:07:03.351200 UTC
InactiveEnterTimestampMonotonic=108423351200
InactiveExitTimestampMonotonic=108123099000
`;

/** The main process exited with status 1 and Restart=no. */
export const FAILED_SERVICE = `Type=simple
Restart=no
RemainAfterExit=no
MainPID=0
Result=exit-code
NRestarts=0
ExecMainStartTimestamp=Mon 2026-11-23 14:02:03.000000 UTC
ExecMainStartTimestampMonotonic=108123000000
ExecMainExitTimestamp=Mon 2026-11-23 14:02:04.250000 UTC
ExecMainExitTimestampMonotonic=108124250000
ExecMainPID=1337
ExecMainCode=1
ExecMainStatus=1
StatusText=
Id=api.service
Triggers=
LoadState=loaded
ActiveState=failed
SubState=failed
ActiveEnterTimestamp=Mon 2026-11-23 14:02:03.000500 UTC
InactiveEnterTimestamp=Mon 2026-11-23 14:02:04.251000 UTC
InactiveEnterTimestampMonotonic=108124251000
InactiveExitTimestampMonotonic=108122999000
`;

/** Restart=always, exiting with status 2: systemd waits RestartSec before its 4th start. */
export const AUTO_RESTART_SERVICE = `Type=simple
Restart=always
RemainAfterExit=no
MainPID=0
Result=exit-code
NRestarts=3
ExecMainStartTimestamp=Mon 2026-11-23 14:02:03.700000 UTC
ExecMainStartTimestampMonotonic=108123700000
ExecMainExitTimestamp=Mon 2026-11-23 14:02:03.760000 UTC
ExecMainExitTimestampMonotonic=108123760000
ExecMainPID=2210
ExecMainCode=1
ExecMainStatus=2
StatusText=
Id=flaky.service
Triggers=
LoadState=loaded
ActiveState=activating
SubState=auto-restart
ActiveEnterTimestamp=Mon 2026-11-23 14:02:03.700400 UTC
InactiveEnterTimestamp=Mon 2026-11-23 14:02:03.000000 UTC
InactiveEnterTimestampMonotonic=108123000000
InactiveExitTimestampMonotonic=108123000100
`;

export const BACKUP_TIMER = `Unit=backup.service
NextElapseUSecRealtime=Tue 2026-11-24 02:00:00 UTC
LastTriggerUSec=Mon 2026-11-23 02:00:00 UTC
Result=success
Id=backup.timer
Triggers=backup.service
LoadState=loaded
ActiveState=active
SubState=waiting
ActiveEnterTimestamp=Sun 2026-11-22 08:00:01.000000 UTC
InactiveEnterTimestamp=
InactiveEnterTimestampMonotonic=0
InactiveExitTimestampMonotonic=1000000
`;

/** A oneshot run by backup.timer at 02:00 whose script exited with status 1 after 4.5 s. */
export const BACKUP_FAILED = `Type=oneshot
Restart=no
RemainAfterExit=no
MainPID=0
Result=exit-code
NRestarts=0
ExecMainStartTimestamp=Mon 2026-11-23 02:00:00.020000 UTC
ExecMainStartTimestampMonotonic=64800020000
ExecMainExitTimestamp=Mon 2026-11-23 02:00:04.520000 UTC
ExecMainExitTimestampMonotonic=64804520000
ExecMainPID=4242
ExecMainCode=1
ExecMainStatus=1
StatusText=
Id=backup.service
Triggers=
LoadState=loaded
ActiveState=failed
SubState=failed
ActiveEnterTimestamp=
InactiveEnterTimestamp=Mon 2026-11-23 02:00:04.530000 UTC
InactiveEnterTimestampMonotonic=64804530000
InactiveExitTimestampMonotonic=64800015000
`;

/** The same job while it runs: systemd has reset Result at the start of the run. */
export const BACKUP_RUNNING = `Type=oneshot
Restart=no
RemainAfterExit=no
MainPID=4300
Result=success
NRestarts=0
ExecMainStartTimestamp=Tue 2026-11-24 02:00:00.020000 UTC
ExecMainStartTimestampMonotonic=151200020000
ExecMainExitTimestamp=
ExecMainExitTimestampMonotonic=0
ExecMainPID=4300
ExecMainCode=0
ExecMainStatus=0
StatusText=
Id=backup.service
Triggers=
LoadState=loaded
ActiveState=activating
SubState=start
ActiveEnterTimestamp=
InactiveEnterTimestamp=Mon 2026-11-23 02:00:04.530000 UTC
InactiveEnterTimestampMonotonic=64804530000
InactiveExitTimestampMonotonic=151200015000
`;

export const REPORT_TIMER = BACKUP_TIMER.replaceAll('backup', 'report');

/** A oneshot job whose last run succeeded: inactive (dead) again, Result=success, status 0. */
export const REPORT_SUCCEEDED = `Type=oneshot
Restart=no
RemainAfterExit=no
MainPID=0
Result=success
NRestarts=0
ExecMainStartTimestamp=Mon 2026-11-23 02:00:00.030000 UTC
ExecMainStartTimestampMonotonic=64800030000
ExecMainExitTimestamp=Mon 2026-11-23 02:00:01.030000 UTC
ExecMainExitTimestampMonotonic=64801030000
ExecMainPID=4250
ExecMainCode=1
ExecMainStatus=0
StatusText=
Id=report.service
Triggers=
LoadState=loaded
ActiveState=inactive
SubState=dead
ActiveEnterTimestamp=
InactiveEnterTimestamp=Mon 2026-11-23 02:00:01.031000 UTC
InactiveEnterTimestampMonotonic=64801031000
InactiveExitTimestampMonotonic=64800025000
`;

/** Type=oneshot, RemainAfterExit=yes: its run succeeded and the unit stays active with no process. */
export const ONESHOT_REMAIN = `Type=oneshot
Restart=no
RemainAfterExit=yes
MainPID=0
Result=success
NRestarts=0
ExecMainStartTimestamp=Sun 2026-11-22 08:00:02.000000 UTC
ExecMainStartTimestampMonotonic=2000000
ExecMainExitTimestamp=Sun 2026-11-22 08:00:02.150000 UTC
ExecMainExitTimestampMonotonic=2150000
ExecMainPID=310
ExecMainCode=1
ExecMainStatus=0
StatusText=
Id=setup-net.service
Triggers=
LoadState=loaded
ActiveState=active
SubState=exited
ActiveEnterTimestamp=Sun 2026-11-22 08:00:02.151000 UTC
InactiveEnterTimestamp=
InactiveEnterTimestampMonotonic=0
InactiveExitTimestampMonotonic=1999000
`;

/** A unit name with no unit file: systemctl still prints a block (defaults), exit status 0. */
export const NOT_FOUND_SERVICE = `Type=simple
Restart=no
RemainAfterExit=no
MainPID=0
Result=success
NRestarts=0
ExecMainStartTimestamp=
ExecMainStartTimestampMonotonic=0
ExecMainExitTimestamp=
ExecMainExitTimestampMonotonic=0
ExecMainPID=0
ExecMainCode=0
ExecMainStatus=0
StatusText=
Id=ghost.service
Triggers=
LoadState=not-found
ActiveState=inactive
SubState=dead
ActiveEnterTimestamp=
InactiveEnterTimestamp=
InactiveEnterTimestampMonotonic=0
InactiveExitTimestampMonotonic=0
LoadError=org.freedesktop.systemd1.NoSuchUnit "Unit ghost.service not found."
`;
