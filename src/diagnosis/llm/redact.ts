// Secrets never leave the host: every text bound for a provider passes through here first, and the
// redacted text is also what is stored, so the store holds nothing the provider did not see. The
// built-in patterns cover the common token formats; a site adds its own (diagnosis.redact).
import { WardenError } from '../../lib/errors.js';

export const REDACTED = '[REDACTED]';

/** Built-in patterns, each with what it replaces (a group keeps the part around the secret). */
const BUILTIN: readonly { name: string; re: RegExp; keep?: (m: string, ...g: string[]) => string }[] = [
  { name: 'private key', re: /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g },
  { name: 'bearer token', re: /\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi, keep: (_m, scheme) => `${scheme} ${REDACTED}` },
  { name: 'AWS access key id', re: /\b(AKIA|ASIA)[A-Z0-9]{16}\b/g },
  { name: 'AWS secret key', re: /\b(aws_?secret_?access_?key\s*[=:]\s*)["']?[A-Za-z0-9/+=]{40}["']?/gi, keep: (_m, k) => `${k}${REDACTED}` },
  { name: 'password in URL', re: /\b([a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]+@/gi, keep: (_m, head) => `${head}${REDACTED}@` },
  { name: 'key=value secret', re: /\b((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)\s*[=:]\s*)["']?[^\s"',;]{4,}["']?/gi, keep: (_m, k) => `${k}${REDACTED}` },
  { name: 'provider key', re: /\b(sk-(?:ant-)?[A-Za-z0-9_-]{16,}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9-]{10,})\b/g },
];

export class RedactPatternError extends WardenError {
  constructor(pattern: string, why: string) {
    super('REDACT_PATTERN', `diagnosis.redact pattern ${JSON.stringify(pattern)} is not a valid regular expression (${why}); fix or remove it`);
  }
}

export type Redactor = (text: string) => string;

/** A redactor with the built-in patterns and the site's own (regular expressions, matched everywhere). */
export function redactor(extra: readonly string[] = []): Redactor {
  const own = extra.map((p) => {
    try {
      return new RegExp(p, 'g');
    } catch (e) {
      throw new RedactPatternError(p, (e as Error).message);
    }
  });
  return (text) => {
    let out = text;
    for (const b of BUILTIN) {
      const keep = b.keep;
      out = keep ? out.replace(b.re, (m: string, ...g: unknown[]) => keep(m, ...g.filter((x): x is string => typeof x === 'string'))) : out.replace(b.re, REDACTED);
    }
    for (const re of own) out = out.replace(re, REDACTED);
    return out;
  };
}
