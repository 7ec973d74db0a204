// What Warden changes on a host runs as root: directly when its account is root, otherwise through
// `sudo -n`, which runs only what a rule in /etc/sudoers.d allows and never asks for a password
// (docs/fleet.md lists the rules). The account's own rights are enough for everything else
// (reading properties, the journal, /proc).

/** The script: the argv after it is run as root, one way or the other, with its words untouched. */
const SCRIPT = 'if [ "$(id -u)" -eq 0 ]; then exec "$@"; fi; exec sudo -n -- "$@"';

export function asRoot(argv: readonly string[]): string[] {
  return ['sh', '-c', SCRIPT, 'sh', ...argv];
}

/** What sudo says when no rule allows the command: the fix is a rule, not a retry. */
export function sudoRefused(stderr: string): boolean {
  // "sudo: a password is required" (no rule for it), "Sorry, user warden is not allowed to execute
  // '/usr/bin/systemctl reboot' as root on db1." (a rule, but not this command), sudo missing.
  return /sudo: (a password is required|a terminal is required|.*not in the sudoers file|.*not allowed to execute)|^Sorry, user \S+ is not allowed to execute|sudo: (command )?not found/im.test(stderr);
}
