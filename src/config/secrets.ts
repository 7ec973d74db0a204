// Which values of a config are secrets, by their names: a service's or runbook's env variable
// called *_PASSWORD or API_KEY, a webhook header such as Authorization, a webhook URL with a
// password or a token in its query. Values are never looked at (nor printed); a secret under an
// innocent name is not found, so keep a config with any secret private whatever this says.
import type { ResolvedConfig } from '../domain/types.js';

/** Words that make a name a secret's: DB_PASSWORD, apiToken, X-Auth-Token, client_secret. */
const SECRET_WORDS = new Set(['password', 'passwd', 'passphrase', 'pwd', 'secret', 'token', 'apikey', 'credential', 'credentials', 'auth', 'authorization', 'cookie', 'signature']);
/** Two words that together name a secret: API_KEY, private-key, accessKey. */
const SECRET_PAIRS = new Set(['apikey', 'privatekey', 'accesskey', 'secretkey', 'signingkey', 'sessionkey']);

/** True when a variable, header or parameter name looks like it holds a secret. */
export function isSecretName(name: string): boolean {
  const words = name.split(/[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])/).map((w) => w.toLowerCase()).filter((w) => w !== '');
  return words.some((w, i) => SECRET_WORDS.has(w) || SECRET_PAIRS.has(w + (words[i + 1] ?? '')));
}

/** Where the config holds secrets, e.g. `service db env DB_PASSWORD`; [] when nowhere it can tell. */
export function configSecrets(cfg: ResolvedConfig): string[] {
  const found = new Set<string>();
  for (const s of cfg.services) {
    for (const k of Object.keys(s.env)) if (isSecretName(k)) found.add(`service ${s.name} env ${k}`);
    for (const r of s.runbooks) {
      // A runbook's env includes its service's, reported above.
      for (const k of Object.keys(r.env)) if (isSecretName(k) && !Object.hasOwn(s.env, k)) found.add(`service ${s.name} runbook ${r.name} env ${k}`);
    }
  }
  for (const n of cfg.notify) {
    for (const h of Object.keys(n.headers)) if (isSecretName(h)) found.add(`notify "${n.name}" webhook header ${h}`);
    const where = urlSecret(n.url);
    if (where !== null) found.add(`notify "${n.name}" webhook url ${where}`);
  }
  return [...found];
}

function urlSecret(url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.password !== '') return 'password';
  const param = [...u.searchParams.keys()].find(isSecretName);
  return param === undefined ? null : `parameter ${param}`;
}
