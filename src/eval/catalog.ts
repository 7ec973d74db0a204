// The fault catalog (lab/scenarios/*.yaml), the named labs (lab/labs/*.yaml) and campaigns
// (lab/campaigns/*.yaml): plain YAML a user can copy, validated with zod, every problem reported
// at file:line:col like warden.yaml's (the same locator and messages).
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { CAUSES, type Cause } from '../domain/types.js';
import { DURATION_PATTERN, BYTES_PATTERN } from '../lib/duration.js';
import { ConfigError, fromZodIssue, Locator, zodErrorMap, type ConfigIssue } from '../config/issues.js';
import { checkStructure } from '../config/structure.js';

const duration = z.string().regex(DURATION_PATTERN, { error: 'expected a duration with a unit, e.g. 300ms, 2s' });
const name = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, { error: 'expected a name of lower-case letters, digits and dashes' });
const cause = z.enum(CAUSES as [Cause, ...Cause[]]);
const signal = z.string().regex(/^SIG[A-Z0-9]+$/, { error: 'expected a signal name, e.g. SIGKILL' });

const FAULT_TYPES = [
  'none', 'kill', 'exit0', 'crash-loop', 'sigstop', 'stop-dependency', 'change-start', 'change-env', 'remove-binary', 'occupy-port',
  'fill-disk', 'exhaust-inodes', 'exhaust-fds', 'memory-limit', 'slow-start', 'latency', 'network-loss', 'revoke-credentials', 'flapping', 'deploy',
] as const;

/** The typed injectors (faults.ts performs them); `none` is a control run that must stay quiet. */
export const faultSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none'), load: z.strictObject({ url: z.string(), rps: z.int().min(1).max(500) }).optional(), observe: duration.default('3s') }),
  z.strictObject({ type: z.literal('kill'), target: name, signal: signal.default('SIGKILL') }),
  z.strictObject({ type: z.literal('exit0'), target: name }),
  z.strictObject({ type: z.literal('crash-loop'), target: name, file: z.string() }),
  z.strictObject({ type: z.literal('sigstop'), target: name }),
  z.strictObject({ type: z.literal('stop-dependency'), of: name, depth: z.int().min(1).max(5).default(1) }),
  z.strictObject({ type: z.literal('change-start'), target: name, start: z.array(z.string()).min(1) }),
  z.strictObject({ type: z.literal('change-env'), target: name, env: z.record(z.string(), z.string()) }),
  z.strictObject({ type: z.literal('remove-binary'), target: name }),
  z.strictObject({ type: z.literal('occupy-port'), target: name, port: z.string() }),
  z.strictObject({ type: z.literal('fill-disk'), volume: name }),
  z.strictObject({ type: z.literal('exhaust-inodes'), volume: name }),
  z.strictObject({ type: z.literal('exhaust-fds'), target: name }),
  z.strictObject({ type: z.literal('memory-limit'), target: name, trigger: z.string() }),
  z.strictObject({ type: z.literal('slow-start'), target: name, file: z.string(), delay: duration }),
  z.strictObject({ type: z.literal('latency'), link: name, delay: duration }),
  z.strictObject({ type: z.literal('network-loss'), link: name }),
  z.strictObject({ type: z.literal('revoke-credentials'), target: name, port: z.string(), password: z.string(), newPassword: z.string() }),
  z.strictObject({ type: z.literal('flapping'), target: name, times: z.int().min(2).max(6).default(3) }),
  z.strictObject({ type: z.literal('deploy'), target: name }),
], {
  // An unknown type: name the ones there are, not "a map that matches none of the forms".
  error: (iss) => {
    const got = (iss.input as { type?: unknown } | undefined)?.type;
    return `expected one of ${FAULT_TYPES.join(' | ')}, got ${got === undefined ? 'nothing' : JSON.stringify(got)}`;
  },
});
export type Fault = z.infer<typeof faultSchema>;
export type FaultType = Fault['type'];

// The list above and the union stay one list.
const _sameTypes: (typeof FAULT_TYPES)[number] extends FaultType ? (FaultType extends (typeof FAULT_TYPES)[number] ? true : never) : never = true;
void _sameTypes;

/** A service entry exactly as in warden.yaml; `${port:x}`, `${dir}`, `${lab}`, `${vol:x}` are filled in. */
const service = z.record(z.string(), z.unknown());

const volume = z.strictObject({
  name,
  size: z.string().regex(BYTES_PATTERN, { error: 'expected a size, e.g. 4MiB' }).default('4MiB'),
  inodes: z.int().min(16).optional(),
});

/** A process the lab runs that is not a Warden service: the network between services. */
const helper = z.strictObject({ name, start: z.array(z.string()).min(1), env: z.record(z.string(), z.string()).default({}) });

export const labSchema = z.strictObject({
  description: z.string().default(''),
  /** A named lab (lab/labs/NAME.yaml) this one extends. */
  use: name.optional(),
  services: z.array(service).default([]),
  volumes: z.array(volume).default([]),
  helpers: z.array(helper).default([]),
});
export type LabSpec = z.infer<typeof labSchema>;

export const scenarioSchema = z.strictObject({
  name,
  description: z.string().min(1),
  /** The published fault type this scenario stands for (AIOpsLab's non-Kubernetes ones). */
  reference: z.strictObject({ aiopslab: z.string() }).optional(),
  lab: z.union([name, labSchema]),
  fault: faultSchema,
  expect: z.strictObject({
    /** Absent on a no-fault control: no ticket may open. */
    rootCause: z.strictObject({ service: name, cause }).optional(),
    /** `type target` of each action Warden must complete; any other action of Warden's is needless. */
    actions: z.array(z.string().regex(/^[a-z.-]+ [a-z0-9-]+$/, { error: 'expected "TYPE SERVICE", e.g. "restart web"' })).default([]),
    outcome: z.enum(['resolved', 'escalated', 'none']),
  }),
  /** false: a cause Warden does not claim to diagnose (reported, and counted apart). */
  covered: z.boolean().default(true),
  /** Why it is not covered, or what is special about it. */
  note: z.string().optional(),
  timeout: duration.default('30s'),
}).superRefine((s, ctx) => {
  const quiet = s.expect.outcome === 'none';
  if (quiet !== (s.expect.rootCause === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['expect'], message: quiet ? 'a no-fault control (outcome: none) expects no root cause' : `outcome ${s.expect.outcome} needs expect.rootCause: { service, cause }` });
  }
});
export type ScenarioSpec = z.infer<typeof scenarioSchema>;

export const campaignSchema = z.strictObject({
  name,
  description: z.string().default(''),
  /** Scenario names (lab/scenarios/NAME.yaml) or paths relative to the campaign file. */
  scenarios: z.array(z.string()).min(1),
  repeat: z.int().min(1).max(100).default(1),
});
export type CampaignSpec = z.infer<typeof campaignSchema>;

/** Reads a YAML file against a schema; every problem at file:line:col in one ConfigError. */
export function loadYaml<T>(path: string, schema: z.ZodType<T>): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError([{ file: path, line: 0, col: 0, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}` }], { cause: e });
  }
  return parseYaml(text, path, schema);
}

export function parseYaml<T>(text: string, file: string, schema: z.ZodType<T>): T {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const syntax: ConfigIssue[] = doc.errors.map((e) => ({ file, line: e.linePos?.[0].line ?? 1, col: e.linePos?.[0].col ?? 1, message: `YAML: ${e.message.split('\n')[0] ?? ''}` }));
  if (syntax.length > 0) throw new ConfigError(syntax);
  const structure = checkStructure(doc, lines, file);
  if (structure.fatal) throw new ConfigError(structure.issues);
  const data: unknown = doc.toJS({ maxAliasCount: -1 });
  const parsed = schema.safeParse(data, { reportInput: true, error: zodErrorMap });
  if (parsed.success) return parsed.data;
  const locator = new Locator(doc, lines, structure.targets);
  throw new ConfigError(parsed.error.issues.flatMap((i) => fromZodIssue(i, schema, data)).map((p) => locator.issue(file, p)));
}

/** Where the catalog lives in a checkout: lab/scenarios, lab/labs, lab/campaigns. */
export function catalogDirs(root: string): { scenarios: string; labs: string; campaigns: string } {
  return { scenarios: join(root, 'scenarios'), labs: join(root, 'labs'), campaigns: join(root, 'campaigns') };
}

/** A scenario by name or path; a campaign's relative paths are relative to the campaign file. */
export function scenarioPath(ref: string, campaignFile: string): string {
  if (ref.endsWith('.yaml') || ref.includes('/')) return resolve(dirname(campaignFile), ref);
  return join(dirname(campaignFile), '..', 'scenarios', `${ref}.yaml`);
}

export function loadScenario(path: string): ScenarioSpec {
  const s = loadYaml(path, scenarioSchema);
  const stem = basename(path, '.yaml');
  if (s.name !== stem) throw new ConfigError([{ file: path, line: 1, col: 1, message: `name "${s.name}" differs from the file name "${stem}.yaml"; name a scenario after its file` }]);
  return s;
}
