// The peer Wardens this one watches (config `peers`), as `warden status` and GET /api/status show
// them: read from the store flag `peer:<name>` the daemon writes on each change, so the CLI sees the
// same without the API.
import type { ResolvedConfig } from '../domain/types.js';
import { iso } from '../lib/clock.js';
import type { Store } from '../store/store.js';

export const PEER_PREFIX = 'peer:';

export interface PeerJson {
  name: string;
  url: string;
  /** null: no verdict yet (just started, or never reached nor failed enough). */
  reachable: boolean | null;
  since: string | null;
  reason: string | null;
}

/** What the daemon keeps per peer (runtime/peers.ts PeerState). */
interface PeerFlag { url: string; reachable: boolean | null; since: number | null; reason: string | null }

/** Absent when no peer is configured. */
export function peersJson(config: ResolvedConfig, store: Pick<Store, 'flagsWithPrefix'> | null): { peers?: PeerJson[] } {
  const peers = config.peers ?? [];
  if (peers.length === 0) return {};
  const flags = store?.flagsWithPrefix(PEER_PREFIX) ?? new Map<string, string>();
  return {
    peers: peers.map((p) => {
      let f: PeerFlag | null = null;
      try {
        f = JSON.parse(flags.get(p.name) ?? 'null') as PeerFlag | null;
      } catch {
        // Unreadable: no verdict.
      }
      const same = f !== null && f.url === p.url;
      return { name: p.name, url: p.url, reachable: same ? f!.reachable : null, since: same ? iso(f!.since) : null, reason: same ? f!.reason : null };
    }),
  };
}
