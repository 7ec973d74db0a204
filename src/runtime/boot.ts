// Boot awareness: the kernel's boot_id changes on every boot of the host (and of a container),
// never on a restart of Warden itself, so it tells a reboot from a plain service restart.
import { readFileSync } from 'node:fs';

export const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';

export function readBootId(file = BOOT_ID_FILE): string {
  return readFileSync(file, 'utf8').trim();
}
