// The one rule for the environment of everything Warden starts (services, exec probes, runbooks,
// systemctl, helpers): Warden's own environment minus its secrets, plus what the config gives that
// child. A service has no business holding the key to the API that can see every other service.

/** The API's bearer token, when no agent.api.tokenFile is configured. */
export const TOKEN_ENV = 'WARDEN_API_TOKEN';

/**
 * Environment variables that hold Warden's secrets: never passed on to a child, whatever its kind.
 * A new secret Warden reads from its environment belongs in this list.
 */
export const SECRET_ENV: readonly string[] = [TOKEN_ENV];

/**
 * The environment a child gets: `parent` (process.env by default) without SECRET_ENV, then `own`
 * (the service's, runbook's or helper's env from the config) on top. A config that names a secret
 * variable itself passes it on deliberately.
 */
export function childEnv(own: Readonly<Record<string, string>> = {}, parent: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(parent)) if (v !== undefined && !SECRET_ENV.includes(k)) env[k] = v;
  return Object.assign(env, own);
}
