// Owners by name: Node has no getpwnam, so the user database is read the way the C library reads
// it for local accounts. Read at each use: accounts change while Warden runs.
import { readFileSync } from 'node:fs';

export const PASSWD = '/etc/passwd';

/** name → uid for every line of a passwd(5) file. */
export function parsePasswd(text: string): Map<string, number> {
  const users = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid !== undefined && /^\d+$/.test(uid) && !users.has(name)) users.set(name, Number(uid));
  }
  return users;
}

function users(file: string): Map<string, number> {
  try {
    return parsePasswd(readFileSync(file, 'utf8'));
  } catch {
    return new Map();
  }
}

/** The uid of `owner` (a user name, or a uid as a number or digits); null for an unknown name. */
export function uidOf(owner: string | number, file = PASSWD): number | null {
  if (typeof owner === 'number') return owner;
  if (/^\d+$/.test(owner)) return Number(owner);
  return users(file).get(owner) ?? null;
}

/** "alice (uid 1000)", or "uid 1234" for a uid with no name. */
export function ownerText(uid: number, file = PASSWD): string {
  for (const [name, id] of users(file)) if (id === uid) return `${name} (uid ${uid})`;
  return `uid ${uid}`;
}
