// What a diagnosis rests on, as a digest: the facts about a problem that can change its diagnosis.
// A diagnoser is asked again only when this key changes, not on every pass (an LLM diagnoser is
// slow and costs money; rules are cheap but their answer must not churn either).
import { createHash } from 'node:crypto';
import type { Problem } from './detect.js';
import { countExits } from './crashloop.js';
import type { Instant } from './elapsed.js';
import type { ResolvedConfig, World } from './types.js';

export function evidenceKey(config: ResolvedConfig, world: World, problem: Problem, now: Instant): string {
  const obs = world.services[problem.service];
  const p = obs?.process;
  const spec = config.services.find((s) => s.name === problem.service);
  const recentExits = countExits(config, spec, p?.exits ?? [], now).looping.length;
  const facts = {
    // A subject's: which invariants break and whom they blame (a second member down is new evidence).
    findings: problem.findings.map((f) => `${f.service}:${f.kind}:${f.dependencyDown ?? ''}${f.invariant ? `:${f.invariant}:${(f.blame ?? []).join('+')}` : ''}${f.alert ? `:alert:${f.alert.fingerprint}` : ''}`),
    running: p?.running ?? null,
    exitPending: p?.exitPending ?? false,
    // Only the states that mean something different to a diagnosis: stopped, uninterruptible, zombie.
    state: p?.procState && 'TtDZ'.includes(p.procState) ? p.procState : null,
    spawnError: p?.spawnError ?? null,
    failing: p?.failing ?? null,
    exits: Math.min(recentExits, config.agent.crashLoopExits),
    lastExit: p?.exits[0] ? `${p.exits[0].at}` : null,
    checks: (obs?.checks ?? []).filter((c) => c.healthy === false).map((c) => `${c.id}:${c.last?.timedOut ? 'timeout' : c.last?.slowerThanMs !== undefined ? 'slow' : 'fail'}`),
  };
  return createHash('sha256').update(JSON.stringify(facts)).digest('hex').slice(0, 16);
}
