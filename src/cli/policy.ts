// warden policy explain ID | check --as IDENTITY ACTION TARGET: what the policy said about an action
// (from the audit log: every check the gate consulted, and the approvals), and what it would say now.
import type { Command } from 'commander';
import { parseFreeze, FROZEN_FLAG } from '../app/commands.js';
import { requesterOf } from '../domain/identity.js';
import { countStartedIn, gate, type GateResult } from '../domain/policy.js';
import { shadowOf } from '../domain/shadow.js';
import type { PolicyCheck } from '../domain/guardrails.js';
import type { ActionType } from '../domain/types.js';
import { systemClock } from '../lib/clock.js';
import { PolicySource } from '../loop/policysource.js';
import { windowStates } from '../loop/windows.js';
import { readBootId } from '../runtime/boot.js';
import { CliError, printJson, readConfig, storeCreated, withStore, type GlobalOpts } from './common.js';
import { registerPolicyReport } from './policyreport.js';
import { shadowEvent } from '../views/shadow.js';
import type { Store } from '../store/store.js';

const MARK: Record<PolicyCheck['verdict'], string> = { pass: 'pass   ', require: 'approve', block: 'BLOCK  ', none: '-      ' };

function formatChecks(checks: readonly PolicyCheck[]): string {
  return checks.map((c) => `  ${MARK[c.verdict]} ${c.kind.padEnd(11)} ${c.name}: ${c.detail}\n`).join('');
}

interface Explained {
  id: string;
  decisions: { at: string; kind: string; actor: string; reason: string | null; checks: PolicyCheck[] }[];
  approvals: { at: string; kind: string; actor: string; detail: string | null }[];
}

const APPROVAL_KINDS = new Set(['action.approval_recorded', 'action.approved', 'action.rejected', 'action.expired']);
const DECISION_KINDS = new Set(['action.proposed', 'policy.denied', 'policy.limit_reached', 'policy.deferred', 'policy.shadowed']);

export function registerPolicy(program: Command, globals: () => GlobalOpts): void {
  const policy = program.command('policy').description('what the policy said about an action, what it would say now, and the track record');
  registerPolicyReport(policy, globals);

  policy.command('explain <id>')
    .description('every rule, tier, limit, window and approval consulted for an action (or a ticket\'s refusals), with its verdict')
    .option('--json', 'print JSON')
    .addHelpText('after', `
Reads the audit log: when Warden proposed the action (or refused or deferred a ticket's repair) it
recorded every check the policy gate consulted, in order: the policy file's validity, the mode,
each rule, the tier, the freeze, each maintenance window, the cooldown, each limit and the
concurrency bound. "BLOCK" marks what refused, "approve" what asked for a person first.
Examples:
  warden policy explain A7
  warden policy explain T3          # a ticket: why its repair was refused or deferred
  warden policy explain A7 --json | jq '.decisions[0].checks[] | select(.verdict == "block")'`)
    .action((id: string, o: { json?: boolean }) => {
      const cfg = readConfig(globals());
      const x = withStore(cfg, 'read', (s): Explained => {
        if (!s.getAction(id) && !s.getTicket(id)) throw new CliError(`no action or ticket ${id}; see "warden actions list" or "warden tickets list --all"`);
        const audit = s.listAudit({ subject: id });
        return {
          id,
          decisions: audit.filter((r) => DECISION_KINDS.has(r.kind)).map((r) => ({
            at: new Date(r.at).toISOString(), kind: r.kind, actor: r.actor,
            // A shadow record's reason is the gate's only when it would not have allowed; say what it records.
            reason: r.kind === 'policy.shadowed' ? shadowEvent(r.kind, r.data) : typeof r.data.reason === 'string' ? r.data.reason : null,
            checks: Array.isArray(r.data.policy) ? (r.data.policy as PolicyCheck[]) : [],
          })),
          approvals: audit.filter((r) => APPROVAL_KINDS.has(r.kind)).map((r) => ({
            at: new Date(r.at).toISOString(), kind: r.kind, actor: r.actor, detail: typeof r.data.reason === 'string' ? r.data.reason : null,
          })),
        };
      });
      if (o.json) { printJson(x); return; }
      if (x.decisions.length === 0) process.stdout.write(`${id}: no policy decision recorded (actions proposed before policy explain existed record none)\n`);
      for (const d of x.decisions) {
        process.stdout.write(`${d.at} ${d.kind} by ${d.actor}${d.reason ? `: ${d.reason}` : ''}\n${d.checks.length > 0 ? formatChecks(d.checks) : '  (no checks recorded)\n'}`);
      }
      for (const a of x.approvals) process.stdout.write(`${a.at} ${a.kind} by ${a.actor}${a.detail ? `: ${a.detail}` : ''}\n`);
    });

  policy.command('check <action> <target>')
    .description('would this action on this target be allowed now, and why: every check with its verdict')
    .requiredOption('--as <identity>', 'who asks: the agent by name, or a person (their roles count)')
    .option('--json', 'print JSON')
    .addHelpText('after', `
Evaluates the policy as warden.yaml says it now (re-read, as the daemon does before every action)
against the store's history: limits, cooldown, freeze, windows and actions in flight are today's.
"allowed", "allowed after approval" or "refused (what): why" comes first; --json has "allowed".
For the agent on a target in policy.shadow a "shadow:" line follows: the verdict is what it
records, and it does not act there (--json: "shadow").
Examples:
  warden policy check --as otto restart web
  warden policy check --as alice etcd.replace-member etcd-2 --json`)
    .action((type: string, target: string, o: { as: string; json?: boolean }) => {
      const base = readConfig(globals());
      const { config, error } = new PolicySource().read(base);
      if (!Object.hasOwn(config.policy.actionTiers ?? {}, type)) throw new CliError(`no action "${type}" in the catalog; one of: ${Object.keys(config.policy.actionTiers ?? {}).join(', ')}`);
      const svc = config.services.find((s) => s.name === target);
      const subj = config.subjects.find((s) => s.name === target);
      if (!svc && !subj) throw new CliError(`no service or subject "${target}" in ${config.file}`);
      const now = { wall: systemClock.now(), mono: systemClock.mono(), boot: readBootId() };
      const longest = Math.max(0, config.policy.cooldownMs ?? 0, ...config.policy.limits.map((l) => l.windowMs));
      // Without a store nothing has run yet: no history, no freeze, nothing in flight.
      const history = (s: Store | null): GateResult => {
        const started = s?.startedRepairsSince({ wall: now.wall - longest, mono: now.mono - longest, boot: now.boot }) ?? [];
        const f = parseFreeze(s?.getFlag(FROZEN_FLAG) ?? null);
        const frozen = f !== null && (f.until === null || now.wall < f.until);
        return gate({
          config, type: type as ActionType, target, host: svc?.host ?? subj?.host ?? 'local', frozen, freeze: frozen ? f : null, now,
          countStarted: (t, ty, since) => countStartedIn(started, t, ty, since), started, policyError: error,
          inFlight: s?.listActions({ states: ['executing'] }).length ?? 0, windows: windowStates(config.policy.windows, now.wall),
          requester: requesterOf(config, o.as), mode: o.as === config.agent.name ? config.agent.mode : 'execute',
        });
      };
      const g = storeCreated(config.agent.dataDir) ? withStore(config, 'read', history) : history(null);
      // The gate's verdict stands; in shadow the agent records it and does not act (a person's command still runs).
      const inShadow = o.as === config.agent.name ? shadowOf(config, target) : null;
      const shadow = inShadow && `${target} is in ${inShadow.name}: ${config.agent.name} records what it would do and does not act`;
      if (o.json) printJson({ identity: o.as, action: type, target, allowed: g.ok, approval: g.ok ? g.approval : null, reason: g.ok ? null : g.reason, blockedBy: g.ok ? null : g.blockedBy, shadow, checks: g.checks });
      else process.stdout.write(`${g.ok ? `allowed${g.approval === 'required' ? ' after approval' : ''}` : `refused (${g.blockedBy}): ${g.reason}`}: ${type} on ${target} as ${o.as}\n${shadow ? `  shadow: ${shadow}\n` : ''}${formatChecks(g.checks)}`);
    });
}
