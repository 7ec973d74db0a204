// The policy is re-read and validated before every pass that may act (issue 12): a person who edits
// warden.yaml's policy, people or tiers changes what Warden may do at once, without a reload. A
// file that does not validate blocks every action and says why, at file:line:col; it never falls
// back to "allow", nor to the policy read before. The file is parsed again only when its content
// changed, so a pass over a large inventory does not pay for it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../config/load.js';
import { errorText, isFdShortage } from '../lib/errors.js';
import type { ResolvedConfig } from '../domain/types.js';

export interface PolicyRead {
  /** The running config with the policy and people as the file says now (unchanged when it does not validate). */
  config: ResolvedConfig;
  /** Why the file does not validate now: nothing may act. */
  error: string | null;
}

export class PolicySource {
  private seen: { key: string; policy: Pick<ResolvedConfig, 'policy' | 'people'> | null; error: string | null } | null = null;

  constructor(private readonly readFile: (file: string) => Buffer = readFileSync) {}

  read(base: ResolvedConfig): PolicyRead {
    let key: string;
    try {
      // By content, not modification time: two edits within the clock's resolution are two policies.
      key = createHash('sha256').update(this.readFile(base.file)).digest('hex');
    } catch (e) {
      // Out of descriptors, Warden cannot open the file, which says nothing of what it holds: the
      // policy last read (the one the config was loaded with, before any) stands. A shortage passes,
      // and repairs must go on meanwhile (docs/reliability.md).
      if (isFdShortage(e)) return this.last(base);
      return { config: base, error: `cannot read ${base.file}: ${errorText(e)}` };
    }
    if (this.seen?.key !== key) {
      try {
        const c = loadConfig(base.file);
        this.seen = { key, policy: { policy: c.policy, people: c.people }, error: null };
      } catch (e) {
        this.seen = { key, policy: null, error: errorText(e).replace(/\n/g, '; ') };
      }
    }
    return this.last(base);
  }

  private last(base: ResolvedConfig): PolicyRead {
    if (this.seen === null) return { config: base, error: null };
    const { policy, error } = this.seen;
    return { config: policy ? { ...base, ...policy } : base, error };
  }
}
