// Runbook workflows and declared reverts in warden.yaml: their schema, the rules across their
// values (step names, needs, conditions, cycles, a revert's runbook) reported at file:line:col,
// and their compilation. The order and progress of steps are domain/workflow.ts's.
import { z } from 'zod';
import { actions } from '../actions/index.js';
import { findCycle } from '../domain/workflow.js';
import { CAUSES, type ActionType, type ProbeSpec, type RevertSpec, type StepVerify, type WorkflowSpec, type WorkflowStep } from '../domain/types.js';
import { parseDuration } from '../lib/duration.js';
import { namesOf, type Plugin } from '../plugins/plugin.js';
import { PROBE_TYPES, probes } from '../probes/index.js';
import { argv, duration, name, oneOf, show } from './fields.js';
import type { PathSeg } from './issues.js';

const STEP_ACTIONS = ['start', 'restart', 'stop'] as const;

const verifyObject = z.strictObject({
  run: argv.optional().meta({ description: 'A command that exits 0 when the step held.' }),
  ...Object.fromEntries(Object.entries(probes).map(([n, p]) => [n, (p as Plugin).config.optional()])) as Record<string, z.ZodOptional<z.ZodType>>,
  timeout: duration({ positive: true }).default('10s').meta({ description: 'Tried until it holds or this long has passed; then the step failed.' }),
  interval: duration({ positive: true }).default('500ms').meta({ description: 'Between two tries.' }),
});

const stepSchema = z.strictObject({
  name: name('step').meta({ description: 'Unique among the runbook\'s steps and onFailure steps.' }),
  run: argv.optional().meta({ description: 'A command, as an argv list (one of run or action).' }),
  action: z.strictObject({
    type: oneOf(STEP_ACTIONS, 'a step action'),
    params: z.record(z.string(), z.string()).default({}),
  }).optional().meta({ description: "A catalog action on the runbook's service (start, restart, stop); the policy's rules must allow it there too." }),
  needs: z.array(name('step')).default([]).meta({ description: 'Steps (of the same list) that must succeed first; a skipped step counts as done.' }),
  if: z.strictObject({
    cause: z.array(z.enum(CAUSES)).min(1).optional().meta({ description: "Run only when the ticket's cause is one of these." }),
    stepFailed: name('step').optional().meta({ description: 'Run only when this main step failed (for onFailure steps).' }),
    stepSucceeded: name('step').optional().meta({ description: 'Run only when this main step succeeded.' }),
  }).optional().meta({ description: 'Run the step only when every condition given holds; otherwise it is skipped.' }),
  verify: z.union([argv, verifyObject]).optional().meta({ description: 'Must hold before the steps after it run: an argv list, or { run: argv } or a probe (http:, tcp:, exec:, ...) with timeout and interval.' }),
  timeout: duration({ positive: true }).default('60s'),
});

/** A runbook's workflow keys (beside `run`, which a workflow has not). */
export const workflowFields = {
  steps: z.array(stepSchema).min(1).optional().meta({ description: 'A workflow instead of run: steps run one at a time in dependency order (docs/runbooks.md).' }),
  onFailure: z.array(stepSchema).optional().meta({ description: 'Steps run when a step of the workflow fails (after it; the steps after the failure do not run).' }),
};

export const revertSchema = z.strictObject({
  runbook: name('runbook').optional().meta({ description: "One of this service's runbooks." }),
  action: oneOf(namesOf(actions)).optional().meta({ description: 'A catalog action on the same service.' }),
  params: z.record(z.string(), z.string()).optional(),
}).meta({ description: 'What undoes the action when its verification fails: { runbook: NAME } or { action: TYPE }; it runs if the policy allows it.' });

/** A service's reverts per action type. */
export const revertsSchema = z.partialRecord(oneOf(namesOf(actions)), revertSchema).optional()
  .meta({ description: 'What undoes each action type on this service when its verification fails, e.g. { restart: { runbook: rollback } }.' });

// ------------------------------------------------------------------ rules across values

type Obj = Record<string, unknown>;
type Add = (path: PathSeg[], message: string, at?: 'key' | 'value') => void;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** A service's runbooks and reverts: what the schema alone cannot say. */
export function workflowIssues(svc: Obj, base: PathSeg[], add: Add): void {
  const runbooks = list(svc.runbooks);
  const runbookNames = new Set(runbooks.flatMap((r) => (isObj(r) && typeof r.name === 'string' ? [r.name] : [])));
  runbooks.forEach((rb, i) => {
    if (!isObj(rb)) return;
    const at: PathSeg[] = [...base, 'runbooks', i];
    if (rb.run === undefined && rb.steps === undefined) add(at, 'a runbook needs run (one command) or steps (a workflow)');
    if (rb.run !== undefined && rb.steps !== undefined) add([...at, 'steps'], 'a runbook has run (one command) or steps (a workflow), not both', 'key');
    if (rb.onFailure !== undefined && rb.steps === undefined) add([...at, 'onFailure'], 'onFailure belongs to a workflow: give the runbook steps, or remove onFailure', 'key');
    stepIssues(rb, at, add);
    if (rb.revert !== undefined) revertIssues(rb.revert, [...at, 'revert'], runbookNames, add, typeof rb.name === 'string' ? rb.name : null);
  });
  if (isObj(svc.reverts)) {
    for (const [type, r] of Object.entries(svc.reverts)) revertIssues(r, [...base, 'reverts', type], runbookNames, add, null);
  }
}

function stepIssues(rb: Obj, at: PathSeg[], add: Add): void {
  const steps = list(rb.steps);
  const onFailure = list(rb.onFailure);
  const nameOf = (s: unknown): string | null => (isObj(s) && typeof s.name === 'string' ? s.name : null);
  const main = new Set(steps.map(nameOf).filter((n): n is string => n !== null));
  const seen = new Map<string, string>();
  for (const [key, items] of [['steps', steps], ['onFailure', onFailure]] as const) {
    const names = new Set(items.map(nameOf).filter((n): n is string => n !== null));
    items.forEach((s, j) => {
      if (!isObj(s)) return;
      const sat: PathSeg[] = [...at, key, j];
      const n = nameOf(s);
      if (n !== null) {
        const prev = seen.get(n);
        if (prev !== undefined) add([...sat, 'name'], `duplicate step name ${show(n)} (also at ${prev}); each step needs a name of its own`);
        else seen.set(n, `${key}[${j}]`);
      }
      if (s.run === undefined && s.action === undefined) add(sat, 'a step needs run (a command) or action (start, restart or stop)');
      if (s.run !== undefined && s.action !== undefined) add([...sat, 'action'], 'a step has run or action, not both', 'key');
      list(s.needs).forEach((need, k) => {
        if (typeof need !== 'string') return;
        if (need === n) add([...sat, 'needs', k], `step ${show(n)} cannot need itself`);
        else if (!names.has(need)) add([...sat, 'needs', k], `unknown step ${show(need)} in needs; the ${key === 'steps' ? 'main' : key} steps are: ${[...names].join(', ') || 'none'}`);
      });
      if (isObj(s.if)) {
        for (const c of ['stepFailed', 'stepSucceeded'] as const) {
          const ref = s.if[c];
          if (typeof ref === 'string' && !main.has(ref)) add([...sat, 'if', c], `unknown step ${show(ref)}; ${c} names one of the main steps: ${[...main].join(', ') || 'none'}`);
        }
      }
      const plugin = isObj(s.action) && typeof s.action.type === 'string' && Object.hasOwn(actions, s.action.type) ? actions[s.action.type as ActionType] : undefined;
      if (plugin && isObj(s.action)) {
        const p = plugin.config.safeParse(s.action.params ?? {});
        if (!p.success) add([...sat, 'action', 'params'], `invalid params for ${s.action.type}: ${p.error.issues.map((x) => x.message).join('; ')}`);
      }
      if (isObj(s.verify)) {
        const found = ['run', ...PROBE_TYPES].filter((k) => (s.verify as Obj)[k] !== undefined);
        if (found.length !== 1) add([...sat, 'verify'], `a verification needs exactly one of run or a probe (${PROBE_TYPES.join(', ')}); found ${found.length === 0 ? 'none' : found.join(' and ')}`);
      }
    });
    // A repeated name is reported above; the graph is of the first step of each name.
    const graph = items.flatMap((s) => (isObj(s) && typeof s.name === 'string' ? [{ name: s.name, needs: list(s.needs).filter((x): x is string => typeof x === 'string') }] : []))
      .filter((s, j, all) => all.findIndex((x) => x.name === s.name) === j);
    const cycle = findCycle(graph);
    if (cycle) {
      const j = items.findIndex((s) => nameOf(s) === cycle[0]);
      add([...at, key, j, 'needs'], `step dependency cycle: ${cycle.join(' -> ')}; a step cannot wait for itself`);
    }
  }
}

function revertIssues(r: unknown, at: PathSeg[], runbooks: ReadonlySet<string>, add: Add, self: string | null): void {
  if (!isObj(r)) return;
  if ((r.runbook === undefined) === (r.action === undefined)) add(at, 'a revert needs exactly one of runbook (a runbook of this service) or action (a catalog action)');
  if (typeof r.runbook === 'string') {
    if (!runbooks.has(r.runbook)) add([...at, 'runbook'], `unknown runbook ${show(r.runbook)}; this service's runbooks are: ${[...runbooks].join(', ') || 'none'}`);
    else if (r.runbook === self) add([...at, 'runbook'], `runbook ${show(self)} cannot be its own revert`);
  }
  if (r.params !== undefined && r.action === undefined) add([...at, 'params'], 'params go with action; a runbook takes none', 'key');
}

// ------------------------------------------------------------------ compile

type StepIn = z.output<typeof stepSchema>;
type RevertIn = z.output<typeof revertSchema>;

/** Where relative paths of probes (an exec verification's cwd) are resolved from. */
interface Paths { base: string; serviceCwd: string }

export function compileWorkflow(steps: StepIn[] | undefined, onFailure: StepIn[] | undefined, paths: Paths): WorkflowSpec | undefined {
  if (steps === undefined) return undefined;
  const compile = (s: StepIn): WorkflowStep => compileStep(s, paths);
  return { steps: steps.map(compile), onFailure: (onFailure ?? []).map(compile) };
}

function compileStep(s: StepIn, paths: Paths): WorkflowStep {
  return {
    name: s.name,
    run: s.run ? [...s.run] : null,
    action: s.action ? { type: s.action.type, params: { ...s.action.params } } : null,
    needs: [...new Set(s.needs)],
    if: s.if ? { ...s.if } : null,
    verify: s.verify === undefined ? null : compileVerify(s.verify, paths),
    timeoutMs: parseDuration(s.timeout),
  };
}

function compileVerify(v: NonNullable<StepIn['verify']>, paths: Paths): StepVerify {
  if (Array.isArray(v)) return { argv: [...v], probe: null, timeoutMs: 10_000, intervalMs: 500 };
  const o = v as Record<string, unknown> & { timeout: string; interval: string };
  const type = PROBE_TYPES.find((t) => o[t] !== undefined);
  const probe: ProbeSpec | null = type === undefined ? null : { type, ...(probes[type] as Plugin<string, z.ZodType, object>).compile(o[type], paths) };
  return { argv: Array.isArray(o.run) ? [...(o.run as string[])] : null, probe, timeoutMs: parseDuration(o.timeout), intervalMs: parseDuration(o.interval) };
}

export function compileRevert(r: RevertIn | undefined): RevertSpec | undefined {
  if (r === undefined) return undefined;
  return r.runbook !== undefined ? { type: 'run-runbook', params: { runbook: r.runbook } } : { type: r.action!, params: { ...(r.params ?? {}) } };
}
