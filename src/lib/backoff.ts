// Exponential backoff with "equal jitter" (half fixed, half random), capped: retries of actions
// and of notification deliveries spread out instead of arriving in lockstep.

const BACKOFF_BASE_MS = 200;
const BACKOFF_CAP_MS = 10_000;

export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
