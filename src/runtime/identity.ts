// Who an API request is: the bearer token it carries says. The one tokenFile (or WARDEN_API_TOKEN)
// reads and takes alerts but is nobody in particular, so it decides nothing; a named token
// (agent.api.tokens) is an identity, `token:NAME`, or the person it acts for, with roles, and may
// approve and reject under the same rules as that person at the CLI.
import { readFileSync } from 'node:fs';
import { tokenIdentity } from '../domain/identity.js';
import type { ApiSpec, Person } from '../domain/types.js';
import { ApiConfigError } from './server.js';

/** A named token, read: its secret and who it is. */
export interface NamedToken {
  name: string;
  secret: string;
  /** The identity decisions are taken and audited as: `person:NAME` or `token:NAME`. */
  by: string;
  roles: string[];
}

/** Who sent a request: `by` null for the unnamed token, which may read but not decide. */
export interface Caller {
  /** The token's name, for the audit log (`via`); null for the unnamed token. */
  token: string | null;
  by: string | null;
  roles: string[];
}

export const NOBODY: Caller = { token: null, by: null, roles: [] };

/**
 * Reads every named token's file (trimmed). Throws ApiConfigError naming the file when one cannot be
 * read or is empty, or when two tokens hold the same secret (a request could not say who it is);
 * never puts a token in a message.
 */
export function readNamedTokens(spec: Pick<ApiSpec, 'tokens'>, people: readonly Person[], unnamed: string | null = null): NamedToken[] {
  const out: NamedToken[] = [];
  spec.tokens.forEach((t, i) => {
    const where = `agent.api.tokens[${i}] (${t.name}) file ${t.file}`;
    let secret: string;
    try {
      secret = readFileSync(t.file, 'utf8').trim();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'error';
      throw new ApiConfigError('API_TOKEN_MISSING', `${where}: cannot read it (${code}); write a secret token into it, e.g. "openssl rand -hex 32 > ${t.file}"`, { cause: e });
    }
    if (secret === '') throw new ApiConfigError('API_TOKEN_MISSING', `${where} is empty; write a secret token into it`);
    const twin = out.find((o) => o.secret === secret);
    if (twin || secret === unnamed) throw new ApiConfigError('API_TOKEN_MISSING', `${where} holds the same token as ${twin ? `token ${twin.name}` : 'agent.api.tokenFile'}; give each token its own secret`);
    out.push({ name: t.name, secret, ...tokenIdentity(t, people) });
  });
  return out;
}
