// Secrets a URL carries: a password, or a query parameter named like a token (?token=...).
import { isSecretName } from '../config/secretnames.js';

/** "password", "parameter token", or null when the URL shows none. */
export function urlSecret(url: string): string | null {
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
