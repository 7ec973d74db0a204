// Colour for people at a terminal, sparingly (health words, ticket and action states): only when
// stdout is a TTY and NO_COLOR (https://no-color.org) is unset or empty, so pipes and scripts get
// plain text.

const CODES = { red: 31, green: 32, yellow: 33, dim: 2 } as const;
type Tone = keyof typeof CODES;

export function colorEnabled(env: NodeJS.ProcessEnv = process.env, stream: { isTTY?: boolean } = process.stdout): boolean {
  return !env.NO_COLOR && stream.isTTY === true;
}

function paint(tone: Tone | null, text: string, on = colorEnabled()): string {
  return on && tone ? `\x1b[${CODES[tone]}m${text}\x1b[0m` : text;
}

const TONES: Record<string, Tone> = {
  // service health and the summary
  healthy: 'green', nominal: 'green', unhealthy: 'red', missing: 'red', unstable: 'red', degraded: 'yellow',
  reconciling: 'yellow', unknown: 'dim',
  // ticket status and action state
  resolved: 'green', completed: 'green', escalated: 'red', failed: 'red', held: 'yellow',
  awaiting_approval: 'yellow', open: 'yellow', diagnosing: 'yellow', remediating: 'yellow', verifying: 'yellow',
  cancelled: 'dim',
};

/** A health, summary, ticket status or action state word, coloured by what it means. */
export function state(word: string, on = colorEnabled()): string {
  return paint(TONES[word] ?? null, word, on);
}

/** Something a person must notice (FROZEN, STALE). */
export function alert(text: string, on = colorEnabled()): string {
  return paint('red', text, on);
}
