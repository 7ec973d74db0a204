// Who a named API token is: the identity decisions are taken and audited as, and its roles. Pure,
// so that the API (runtime/identity.ts) and people's commands (app/commands.ts) agree.
import type { ApiTokenSpec, Person } from './types.js';

/** `person:NAME` with that person's roles (and the token's) when it acts for one, else `token:NAME`. */
export function tokenIdentity(t: ApiTokenSpec, people: readonly Person[]): { by: string; roles: string[] } {
  const person = t.person === null ? undefined : people.find((p) => p.name === t.person);
  const roles = [...(person?.roles ?? []), ...(t.role === null ? [] : [t.role])];
  return { by: t.person === null ? `token:${t.name}` : `person:${t.person}`, roles: [...new Set(roles)] };
}
