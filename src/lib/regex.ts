// Regular expressions as people write them in a config: `/pattern/flags` when they need flags,
// or the bare pattern. One reading, shared by the schema (which rejects a bad one with a position)
// and the probes that match with it.

const FLAGGED = /^\/(.+)\/([dgimsuvy]*)$/s;

/**
 * The regular expression `s` stands for. Throws (a SyntaxError naming the problem) on a bad one.
 * Flags that make a regex stateful between calls (g, y) are dropped: a probe tests once per run.
 */
export function parseRegex(s: string): RegExp {
  const m = FLAGGED.exec(s);
  if (m?.[1] !== undefined) return new RegExp(m[1], (m[2] ?? '').replace(/[gy]/g, ''));
  return new RegExp(s);
}

/** Why `s` is not a regular expression, in one line; null when it is one. */
export function regexProblem(s: string): string | null {
  try {
    parseRegex(s);
    return null;
  } catch (err) {
    // V8 repeats the pattern in its message ("Invalid regular expression: /(/: Unterminated group").
    return (err as Error).message.replace(/^Invalid regular expression: .*?: (?=[^:]+$)/, '');
  }
}
