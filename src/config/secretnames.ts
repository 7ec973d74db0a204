// Whether a name (an env variable, a header, a URL parameter) looks like it holds a secret. No
// imports: channel plugins use it from inside the registry the config schema is built from.

/** Words that make a name a secret's: DB_PASSWORD, apiToken, X-Auth-Token, client_secret. */
const SECRET_WORDS = new Set(['password', 'passwd', 'passphrase', 'pwd', 'secret', 'token', 'apikey', 'credential', 'credentials', 'auth', 'authorization', 'cookie', 'signature']);
/** Two words that together name a secret: API_KEY, private-key, accessKey. */
const SECRET_PAIRS = new Set(['apikey', 'privatekey', 'accesskey', 'secretkey', 'signingkey', 'sessionkey']);

/** True when a variable, header or parameter name looks like it holds a secret. */
export function isSecretName(name: string): boolean {
  const words = name.split(/[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])/).map((w) => w.toLowerCase()).filter((w) => w !== '');
  return words.some((w, i) => SECRET_WORDS.has(w) || SECRET_PAIRS.has(w + (words[i + 1] ?? '')));
}
