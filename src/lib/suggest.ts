// Did-you-mean for names people type: config keys, plugin names, service names.

/** The closest candidate within a small edit distance: a typo's likely intent. */
export function didYouMean(word: string, candidates: Iterable<string>): string | null {
  let best: string | null = null;
  let bestDist = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d <= bestDist && c !== word) {
      best = c;
      bestDist = d - 1; // strictly better ones only from here on
    }
  }
  return best;
}

/** Edits (insert, delete, substitute, swap two neighbours) that turn a into b: "nmae" is 1 from "name". */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const get = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(get(i - 1, j) + 1, get(i, j - 1) + 1, get(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, get(i - 2, j - 2) + 1);
      const row = d[i];
      if (row) row[j] = best;
    }
  }
  return get(a.length, b.length);
}

/** ` (did you mean "x"?)` or nothing: the suffix every unknown-name message uses. */
export function suggestion(word: string, candidates: Iterable<string>): string {
  const guess = didYouMean(word, candidates);
  return guess === null ? '' : ` (did you mean "${guess}"?)`;
}
