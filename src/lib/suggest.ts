// Did-you-mean for names people type: config keys, plugin names, service names.

/**
 * Words longer than this get no guess. Typos worth guessing are short; without a cap, two
 * 20,000-character names cost a 400 M-cell matrix (55 s, 3.2 GB), and a SIGHUP reload that found
 * them stalled the daemon's loop past its watchdog.
 */
export const MAX_SUGGEST_LENGTH = 64;

/** The closest candidate within a small edit distance: a typo's likely intent. */
export function didYouMean(word: string, candidates: Iterable<string>): string | null {
  if (word.length > MAX_SUGGEST_LENGTH) return null;
  const w = word.toLowerCase();
  let best: string | null = null;
  let bestDist = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  for (const c of candidates) {
    // Lengths further apart than the distance allowed cannot be within it: skip them unmeasured.
    if (c === word || c.length > MAX_SUGGEST_LENGTH || Math.abs(c.length - word.length) > bestDist) continue;
    const d = editDistance(w, c.toLowerCase());
    if (d <= bestDist) {
      best = c;
      bestDist = d - 1; // strictly better ones only from here on
    }
  }
  return best;
}

/**
 * Edits (insert, delete, substitute, swap two neighbours) that turn a into b: "nmae" is 1 from "name".
 * Three rows of the matrix are all the swap needs, so memory is O(|b|).
 */
function editDistance(a: string, b: string): number {
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, (prev2[j - 2] ?? 0) + 1);
      row.push(best);
    }
    prev2 = prev;
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** ` (did you mean "x"?)` or nothing: the suffix every unknown-name message uses. */
export function suggestion(word: string, candidates: Iterable<string>): string {
  const guess = didYouMean(word, candidates);
  return guess === null ? '' : ` (did you mean "${guess}"?)`;
}
