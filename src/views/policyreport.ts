// The public form of `warden policy report` (docs/json.md): the track records, one suggestion per
// record, the thresholds they were judged by, and the reminder that Warden only suggests.
import {
  DEMOTE_AFTER_FAILURES, PROMOTE_MIN_EVIDENCE, PROMOTE_MIN_RATE, RECENT_ATTEMPTS, SHADOW_MAX_WENT_AWAY, suggest, trackRecords,
  type Suggestion, type TrackRecord,
} from '../domain/trackrecord.js';
import type { Action, Millis, ResolvedConfig, Ticket } from '../domain/types.js';
import { iso } from '../lib/clock.js';

export const SUGGEST_ONLY = 'Warden only suggests: promotion and demotion stay a person\'s edit of warden.yaml (agent.mode, policy.shadow); see docs/policy.md.';

export interface PolicyReport {
  /** ISO time the record starts from; null: everything the store keeps. */
  since: string | null;
  mode: ResolvedConfig['agent']['mode'];
  thresholds: { promoteMinEvidence: number; promoteMinRate: number; recentAttempts: number; demoteAfterFailures: number; shadowMaxWentAway: number };
  records: TrackRecord[];
  suggestions: Suggestion[];
  note: string;
}

export function reportOf(config: ResolvedConfig, tickets: readonly Ticket[], actions: readonly Action[], since: Millis | null): PolicyReport {
  const records = trackRecords({ config, tickets, actions, since });
  return {
    since: since === null ? null : iso(since),
    mode: config.agent.mode,
    thresholds: {
      promoteMinEvidence: PROMOTE_MIN_EVIDENCE, promoteMinRate: PROMOTE_MIN_RATE, recentAttempts: RECENT_ATTEMPTS,
      demoteAfterFailures: DEMOTE_AFTER_FAILURES, shadowMaxWentAway: SHADOW_MAX_WENT_AWAY,
    },
    records,
    suggestions: records.map((r) => suggest(r, config.agent.mode)),
    note: SUGGEST_ONLY,
  };
}
