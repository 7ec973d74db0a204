// What an LLM may answer, and the checks that make its answer a Diagnosis. The model proposes; this
// module decides what of it stands: causes from the taxonomy, citations that exist in the bundle,
// and only catalog actions with valid parameters on the services the problem concerns. Anything
// else (a shell command, a service outside the problem, "restart everything") makes the whole
// answer invalid: a model that was talked into one bad step is not trusted for the rest.
import { z } from 'zod';
import { actions } from '../../actions/index.js';
import { CAUSES, type ActionType, type Diagnosis, type ResolvedConfig } from '../../domain/types.js';
import type { Problem } from '../../domain/detect.js';
import { problemServices, type EvidencePiece } from '../pieces.js';

export const answerSchema = z.strictObject({
  rootService: z.string().min(1).describe('The first broken thing: a service, subject or host of the inventory.'),
  cause: z.enum(CAUSES).describe('The root cause, from the taxonomy.'),
  confidence: z.number().min(0).max(1),
  citations: z.array(z.string()).min(1).max(20).describe('Ids of the evidence pieces the answer rests on.'),
  reasoning: z.string().max(2000).describe('Why, in a few sentences a person on call can check.'),
  alternatives: z.array(z.strictObject({ cause: z.enum(CAUSES), rejected: z.string().max(500) })).max(12)
    .describe('Other causes considered, each with why it was rejected.'),
  actions: z.array(z.strictObject({ type: z.string(), target: z.string(), params: z.record(z.string(), z.string()) })).max(5)
    .describe('Catalog actions to take, in order; empty when a person must act.'),
});

export type Answer = z.output<typeof answerSchema>;

/** The schema as JSON Schema: the tool's input (Anthropic) or the response format (OpenAI). */
export function answerJsonSchema(): Record<string, unknown> {
  const { $schema: _ignored, ...schema } = z.toJSONSchema(answerSchema) as Record<string, unknown>;
  return schema;
}

export type Checked = { ok: true; diagnosis: Diagnosis } | { ok: false; why: string };

export interface CheckContext {
  config: ResolvedConfig;
  problem: Problem;
  pieces: readonly EvidencePiece[];
  diagnoser: string;
}

/** Parses and checks a model's output; `why` says what was wrong (fed back on the one retry). */
export function checkAnswer(output: unknown, ctx: CheckContext): Checked {
  const parsed = answerSchema.safeParse(output);
  if (!parsed.success) return { ok: false, why: `the output does not match the schema: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}` };
  const a = parsed.data;
  const { config, problem, pieces } = ctx;
  const known = new Set([...config.services.map((s) => s.name), ...config.subjects.map((s) => s.name), ...config.hosts.map((h) => h.name)]);
  if (!known.has(a.rootService)) return { ok: false, why: `rootService "${a.rootService}" is not in the inventory` };
  const byId = new Map(pieces.map((p) => [p.id, p]));
  const unknown = a.citations.filter((c) => !byId.has(c));
  if (unknown.length > 0) return { ok: false, why: `citations ${unknown.slice(0, 3).join(', ')} are not ids of the evidence` };
  const targets = new Set(problemServices(config, problem));
  const recommended: Diagnosis['recommended'] = [];
  for (const step of a.actions) {
    const plugin = (actions as Record<string, (typeof actions)[keyof typeof actions] | undefined>)[step.type];
    if (!plugin) return { ok: false, why: `action "${step.type}" is not in the catalog (${Object.keys(actions).join(', ')})` };
    if (!targets.has(step.target)) return { ok: false, why: `target "${step.target}" is not one of the problem's services (${[...targets].join(', ')})` };
    const params = plugin.config.safeParse(step.params);
    if (!params.success) return { ok: false, why: `params of ${step.type} ${step.target} are invalid: ${params.error.issues[0]?.message ?? 'invalid'}` };
    const spec = config.services.find((s) => s.name === step.target)!;
    if (step.type === 'run-runbook' && !spec.runbooks.some((r) => r.name === step.params.runbook)) return { ok: false, why: `${step.target} has no runbook "${step.params.runbook}"` };
    recommended.push({ type: step.type as ActionType, target: step.target, params: step.params });
  }
  const root = config.services.find((s) => s.name === a.rootService);
  return {
    ok: true,
    diagnosis: {
      rootCause: { service: a.rootService, host: root?.host ?? config.subjects.find((s) => s.name === a.rootService)?.host ?? a.rootService, cause: a.cause },
      confidence: a.confidence,
      evidence: a.citations.map((id) => ({ source: id, fact: bounded(byId.get(id)!.text), piece: id })),
      alternatives: a.alternatives,
      recommended,
      ...(recommended.length === 0 ? { noRepair: `${ctx.diagnoser}: ${bounded(a.reasoning)}` } : {}),
      diagnoser: ctx.diagnoser,
    },
  };
}

function bounded(s: string): string {
  return s.length > 200 ? `${s.slice(0, 199)}…` : s;
}
