// Who a named API token is, and who asks for an action: the identity decisions are taken and
// audited as, and its roles. Pure, so that the API (runtime/identity.ts), people's commands
// (app/commands.ts), the gate and `warden policy check --as` agree.
import type { ApiTokenSpec, Person, ResolvedConfig } from './types.js';

/** `person:NAME` with that person's roles (and the token's) when it acts for one, else `token:NAME`. */
export function tokenIdentity(t: ApiTokenSpec, people: readonly Person[]): { by: string; roles: string[] } {
  const person = t.person === null ? undefined : people.find((p) => p.name === t.person);
  const roles = [...(person?.roles ?? []), ...(t.role === null ? [] : [t.role])];
  return { by: t.person === null ? `token:${t.name}` : `person:${t.person}`, roles: [...new Set(roles)] };
}

/**
 * Who asks for an action, as the tiers judge it: `name` as given (`person:alice`, `alice`, the
 * agent's name, `token:NAME`), the roles it holds, and whether it is a person — a person may take a
 * human-only action that is theirs to take, an agent or a bare token never alone.
 */
export interface Requester {
  name: string;
  roles: readonly string[];
  person: boolean;
}

/** The requester `by` is: through a named token (`via`, the API) with the token's roles, else by name with `people:`. */
export function requesterOf(config: Pick<ResolvedConfig, 'people' | 'agent'>, by: string, via?: string): Requester {
  const token = via?.startsWith('token:') ? config.agent.api?.tokens.find((t) => `token:${t.name}` === via) : undefined;
  if (token) {
    const id = tokenIdentity(token, config.people);
    return { name: by, roles: id.roles, person: id.by.startsWith('person:') };
  }
  const bare = by.replace(/^person:/, '');
  const person = config.people.find((p) => p.name === bare);
  const isPerson = by.startsWith('person:') || (person !== undefined && by !== config.agent.name);
  return { name: by, roles: isPerson ? person?.roles ?? [] : [], person: isPerson };
}
