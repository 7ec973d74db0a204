// Which values of a config are secrets, by their names: a service's or runbook's env variable
// called *_PASSWORD or API_KEY, a webhook header such as Authorization, a webhook URL with a
// password or a token in its query. Values are never looked at (nor printed); a secret under an
// innocent name is not found, so keep a config with any secret private whatever this says.
import type { ResolvedConfig } from '../domain/types.js';
import { channelSecrets } from '../notify/channels.js';
import { isSecretName } from './secretnames.js';

export { isSecretName } from './secretnames.js';

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
  for (const n of cfg.notify) for (const w of channelSecrets(n)) found.add(w);
  return [...found];
}
