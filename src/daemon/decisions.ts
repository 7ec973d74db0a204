// Decisions from afar as the running daemon takes them: the API's approve and reject, and approval
// links, are queued in the store like a person's CLI command and applied by the next pass (the one
// writer), which this wakes at once; the request waits for the result. The link key and the named
// tokens are read at start and on reload.
import type { Command, CommandResult } from '../app/commands.js';
import type { AuditIntent } from '../domain/audit.js';
import type { ResolvedConfig } from '../domain/types.js';
import type { Clock } from '../lib/clock.js';
import { sleep } from '../lib/wait.js';
import type { DecisionDeps } from '../runtime/decisions.js';
import { readNamedTokens, type NamedToken } from '../runtime/identity.js';
import { linkKey } from '../runtime/links.js';
import type { Store } from '../store/store.js';

/** How long a request waits for a pass to apply its decision (under the API's 10 s request limit). */
const WAIT_MS = 5_000;
const POLL_MS = 10;

export interface DaemonDecisionsDeps {
  /** The daemon's store, once open. */
  store: () => Store;
  clock: Clock;
  config: () => ResolvedConfig;
  /** Asks for a pass now. */
  kick: () => void;
  /** Why the daemon takes no commands (its store is damaged), or null. */
  halted: () => string | null;
}

export class DaemonDecisions {
  private key: Buffer | null = null;
  private tokens: NamedToken[] = [];

  constructor(private readonly deps: DaemonDecisionsDeps) {}

  /** Reads the named tokens; throws ApiConfigError to refuse a start (a reload keeps the old ones). */
  loadTokens(cfg: ResolvedConfig, unnamed: string | null): void {
    this.tokens = cfg.agent.api ? readNamedTokens(cfg.agent.api, cfg.people, unnamed) : [];
  }

  /** With a public URL, the link key (made on first use); throws LinkKeyError when it is exposed. */
  loadKey(cfg: ResolvedConfig): void {
    this.key = cfg.agent.api?.publicUrl ? linkKey(cfg.agent.dataDir) : null;
  }

  named(): readonly NamedToken[] {
    return this.tokens;
  }

  linkKey(): Buffer | null {
    return this.key;
  }

  api(): DecisionDeps {
    const { store, clock } = this.deps;
    return {
      submit: (cmd) => this.submit(cmd),
      action: (id) => store().getAction(id),
      linkKey: () => this.key,
      audit: (actor, i: AuditIntent) => store().transaction(() => { store().audit({ at: clock.now(), actor, kind: i.kind, subject: i.subject, data: i.data }); }),
      now: () => clock.now(),
    };
  }

  private async submit(cmd: Command): Promise<CommandResult> {
    const store = this.deps.store();
    const halted = this.deps.halted();
    if (halted !== null) return { ok: false, code: 'WITHDRAWN', message: `refused: ${halted}; nothing was queued` };
    const id = store.enqueueCommand(JSON.stringify(cmd), this.deps.clock.now());
    this.deps.kick();
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      await sleep(POLL_MS);
      const r = store.commandResult(id);
      if (r && r.state !== 'pending' && r.result) return JSON.parse(r.result) as CommandResult;
      if (Date.now() > deadline && store.withdrawCommand(id, JSON.stringify({ ok: false, code: 'WITHDRAWN', message: 'not applied in time; withdrawn by the API' }))) {
        return { ok: false, code: 'WITHDRAWN', message: `the daemon did not apply it within ${WAIT_MS / 1000} s (are its passes failing? see /healthz), so it was withdrawn and nothing changed` };
      }
    }
  }
}
