// The rules diagnoser's rules as one typed table (issue 11, point 2). Each rule says which causes
// it can produce and which facts of the evidence bundle it needs (its prerequisites); it judges
// the facts and proposes a cause with a confidence and the reasons that rule out what it outranks.
// The table's order is the precedence: the first rule that applies names the cause, and every
// other rule that applies is kept as a ranked hypothesis, rejected as outranked. Pure and
// deterministic: the same facts give the same judgements (replay.test.ts).
import { isStuck } from '../domain/detect.js';
import type { ExitCount } from '../domain/crashloop.js';
import { CAUSES, type Cause, type CheckState, type Evidence, type ProcessState, type ResolvedConfig, type ServiceObservation, type ServiceSpec } from '../domain/types.js';
import { alertCause, type rootAlerts } from './alerts.js';
import { LOG_PATTERNS } from './logs.js';
import { oomEvidence } from './oom.js';
import { unansweredPath } from './path.js';
import { slowAnswers } from './slow.js';
import type { LogVerdict } from './verdicts.js';

/** The facts of a bundle a rule may need. */
export type Fact = 'process' | 'exits' | 'checks' | 'log' | 'container' | 'alerts';

/** What the rules look at for one service, computed once from the bundle. */
export interface RuleContext {
  config: ResolvedConfig;
  spec: ServiceSpec;
  obs: ServiceObservation | undefined;
  proc: ProcessState | undefined;
  exits: ExitCount;
  /** Why this is no crash loop, in words (used wherever crash_loop is rejected on the count). */
  loopNote: string;
  logTail: readonly string[];
  verdict: LogVerdict | null;
  failing: CheckState[];
  timedOut: CheckState[];
  alerts: ReturnType<typeof rootAlerts>;
}

/** A rule's proposal: the cause, how sure, the facts it adds, what it rules out and why. */
export interface Judgement {
  cause: Cause;
  confidence: number;
  evidence?: Evidence[];
  rejected?: [Cause, string][];
  /** Why no automatic repair can help (the escalation's reason). */
  noRepair?: string;
  /** The cause comes from a firing alert alone: its repair is the alert's. */
  alertOnly?: boolean;
}

export interface Rule {
  name: string;
  description: string;
  causes: readonly Cause[];
  needs: readonly Fact[];
  judge(ctx: RuleContext): Judgement | null;
}

/** Whether the bundle has a fact at all: a rule whose prerequisites are missing is not judged. */
export function hasFact(ctx: RuleContext, f: Fact): boolean {
  switch (f) {
    case 'process':
    case 'exits': return ctx.proc !== undefined;
    case 'checks': return (ctx.obs?.checks.length ?? 0) > 0;
    case 'log': return ctx.logTail.length > 0;
    case 'container': return ctx.proc?.facts !== undefined;
    case 'alerts': return ctx.alerts.length > 0;
  }
}

/** Which evidence a fact stands for (a hypothesis cites the evidence of the facts it needs). */
export function citesFact(source: string, f: Fact): boolean {
  switch (f) {
    case 'process': return source === 'process';
    case 'exits': return source === 'exits';
    case 'checks': return source.startsWith('check:');
    case 'log': return source === 'log' || source === 'port' || source === 'dependsOn';
    case 'container': return source === 'container';
    case 'alerts': return source.startsWith('alert:');
  }
}

const spawnFailed: Rule = {
  name: 'spawn-failed', description: 'the start command itself failed (ENOENT, EACCES): the installation or configuration',
  causes: ['config_drift'], needs: ['process'],
  judge: ({ proc, spec }) => (proc && !proc.running && proc.spawnError ? {
    cause: 'config_drift', confidence: 0.9, rejected: [['process_exited', 'the process never ran: the start command itself failed']],
    noRepair: cannotStart(spec.name, proc.spawnError),
  } : null),
};

const daemonized: Rule = {
  name: 'daemonized', description: 'the start command exited 0 and left a process running: it put itself in the background',
  causes: ['config_drift'], needs: ['process', 'exits'],
  judge: ({ proc, spec }) => {
    const daemon = proc && !proc.running ? proc.daemonized : undefined;
    if (!daemon) return null;
    // Restarting would start a second copy beside the first, which keeps serving (and its port).
    return {
      cause: 'config_drift', confidence: 0.9,
      rejected: [['process_exited', `it exited 0 and pid ${daemon.pid} it started runs on: not a crash`], ['crash_loop', 'the exit was clean and its daemon runs on']],
      noRepair: `${spec.name} daemonized: its start command exited 0 and left pid ${daemon.pid} (${daemon.command}) running, which Warden does not supervise; ` +
        'run it in the foreground (e.g. redis-server --daemonize no, nginx -g "daemon off;", a --foreground or --no-daemon flag) or as kind: systemd, then stop pid ' +
        `${daemon.pid} and resolve this ticket`,
    };
  },
};

const oomKilled: Rule = {
  name: 'oom-killed', description: "the kernel's OOM killer killed the container (OOMKilled)",
  causes: ['resource_exhausted'], needs: ['container'],
  judge: ({ proc, exits, config }) => {
    const oom = oomEvidence(proc);
    if (!oom) return null;
    const rejected: [Cause, string][] = [['process_exited', 'it did not exit on its own: the kernel killed it for memory (OOMKilled)']];
    if (exits.recent.length >= config.agent.crashLoopExits) rejected.push(['crash_loop', 'the repeated exits are OOM kills']);
    return { cause: 'resource_exhausted', confidence: 0.95, evidence: oom, rejected };
  },
};

const logVerdict: Rule = {
  name: 'log-verdict', description: 'a line of the last run\'s log explains the failure (logs.ts, verdicts.ts)',
  causes: [...new Set(LOG_PATTERNS.map((p) => p.cause))], needs: ['log'],
  judge: ({ verdict, proc, exits, config }) => {
    if (!verdict) return null;
    const rejected: [Cause, string][] = [[proc?.running ? 'process_hung' : 'process_exited', `the log shows ${verdict.explains}, which explains the failure`]];
    if (exits.recent.length >= config.agent.crashLoopExits) rejected.push(['crash_loop', `the repeated exits are a consequence of ${verdict.explains}`]);
    return { cause: verdict.cause, confidence: verdict.confidence, rejected };
  },
};

const exited: Rule = {
  name: 'exited', description: 'the process is gone: one exit, or a crash loop of exits soon after their starts (domain/crashloop.ts)',
  causes: ['process_exited', 'crash_loop'], needs: ['process', 'exits'],
  judge: ({ proc, exits, config, loopNote }) => {
    if (!proc || proc.running) return null;
    const n = exits.looping.length;
    const loop = n >= config.agent.crashLoopExits;
    return {
      cause: loop ? 'crash_loop' : 'process_exited', confidence: loop ? 0.9 : 0.95,
      rejected: [loop ? ['process_exited', `${n} exits within the window is a loop, not a single exit`] : ['crash_loop', loopNote], ['process_hung', 'the process is not running']],
    };
  },
};

const stuck: Rule = {
  name: 'stuck', description: 'alive but stopped or wedged in the kernel (state T, t or D): it runs none of its code',
  causes: ['process_hung'], needs: ['process'],
  judge: ({ proc, failing }) => {
    // Stopped or wedged in the kernel: it cannot answer, whatever a TCP connect to its backlog says.
    if (!proc?.running || !isStuck(proc)) return null;
    const rejected: [Cause, string][] = [['process_exited', `the process (pid ${proc.pid}) is still alive`]];
    if (failing.length === 0) rejected.push(['unknown', `its checks still pass, but a process in state ${proc.procState} runs none of its code`]);
    return { cause: 'process_hung', confidence: 0.95, rejected };
  },
};

const slowAnswer: Rule = {
  name: 'slow-answer', description: 'it answers, but later than a check\'s latency bound (slowerThan): degraded, not hung or cut off (slow.ts)',
  causes: ['performance_degraded'], needs: ['process', 'checks'],
  judge: ({ spec, obs }) => {
    const slow = slowAnswers(spec, obs);
    return slow ? { cause: 'performance_degraded', confidence: 0.8, evidence: slow.evidence, rejected: slow.rejected.map((a) => [a.cause, a.rejected]), noRepair: slow.noRepair } : null;
  },
};

const silentPath: Rule = {
  name: 'silent-path', description: 'it answers at its own address, but a check that reaches it another way gets no reply (path.ts)',
  causes: ['network_partition'], needs: ['process', 'checks'],
  judge: ({ spec, obs }) => {
    const path = unansweredPath(spec, obs);
    return path ? { cause: 'network_partition', confidence: 0.75, evidence: path.evidence, rejected: path.rejected.map((a) => [a.cause, a.rejected]), noRepair: path.noRepair } : null;
  },
};

const aliveFailing: Rule = {
  name: 'alive-failing', description: 'alive and failing its checks: not answering (surer when they time out)',
  causes: ['process_hung'], needs: ['process', 'checks'],
  judge: ({ proc, failing, timedOut }) => {
    if (!proc?.running || failing.length === 0) return null;
    const rejected: [Cause, string][] = [['process_exited', `the process (pid ${proc.pid}) is still alive`]];
    if (timedOut.length === 0) rejected.push(['unknown', 'alive but refusing or failing checks; treated as not answering']);
    return { cause: 'process_hung', confidence: timedOut.length > 0 ? 0.85 : 0.6, rejected };
  },
};

const alertOnly: Rule = {
  name: 'alert', description: 'running and passing its checks: a firing alert is all that is wrong, and it says what it knows',
  causes: CAUSES, needs: ['alerts'],
  judge: ({ alerts }) => {
    const a = alertCause(alerts);
    return { cause: a.cause, confidence: a.confidence, alertOnly: true, rejected: [['process_hung', `the process runs and passes its checks; ${a.why}`]] };
  },
};

/** The rules, in precedence order: the first that applies names the cause. */
export const RULES = [spawnFailed, daemonized, oomKilled, logVerdict, exited, stuck, slowAnswer, silentPath, aliveFailing, alertOnly] as const satisfies readonly Rule[];

export type RuleName = (typeof RULES)[number]['name'];

/** Why a service whose start command fails cannot be repaired by starting it again. */
export function cannotStart(service: string, spawnError: string): string {
  const missing = /^spawn (.+) ENOENT$/.exec(spawnError)?.[1];
  return missing !== undefined
    ? `${service} cannot start: its program ${missing} does not exist (ENOENT); reinstall it or correct \`start\` in the config, then resolve this ticket`
    : `${service} cannot start: ${spawnError}; fix the start command or its environment, then resolve this ticket`;
}
