// `warden eval CAMPAIGN`: each scenario of the campaign as a demo scenario of one fault (the demo's
// runner does set up → inject → wait → compare → tear down), repeated and shuffled by a seed, then
// the figures (metrics.ts) over all runs.
import { parseDuration } from '../lib/duration.js';
import { errorText } from '../lib/errors.js';
import { runScenario, type Expect, type FaultResult, type Scenario } from '../demo/demo.js';
import { campaignSchema, loadScenario, loadYaml, scenarioPath, type CampaignSpec, type ScenarioSpec } from './catalog.js';
import { injectFault } from './faults.js';
import { computeMetrics, type Metrics, type RunRecord } from './metrics.js';
import { setupStage, type EvalStage } from './stage.js';

export interface EvalOptions {
  repeat?: number;
  seed?: number;
  /** Called before each run (a progress line) and with the daemon's log lines when verbose. */
  progress?: (done: number, total: number, scenario: string) => void;
  log?: (line: string) => void;
  /** Keep each run's lab directory (config, store, logs): `warden explain` can then read its ticket. */
  keep?: boolean;
}

export interface EvalReport {
  campaign: string;
  file: string;
  seed: number;
  repeat: number;
  startedAt: string;
  durationMs: number;
  diagnosers: string[];
  metrics: Metrics;
  runs: RunRecord[];
}

/** What the scenario's expect section means to the demo runner. */
export function expectOf(s: ScenarioSpec): Expect {
  const observe = s.fault.type === 'none' ? parseDuration(s.fault.observe) : 0;
  return {
    service: s.expect.rootCause?.service ?? '-',
    cause: s.expect.rootCause?.cause ?? 'unknown',
    actions: s.expect.actions,
    status: s.expect.outcome,
    // Passes come at least once a second (agent.interval in evalConfig).
    observePasses: Math.max(1, Math.ceil(observe / 1000)),
  };
}

export function asDemoScenario(spec: ScenarioSpec, onStage: (s: EvalStage) => void = () => undefined): Scenario<EvalStage> {
  return {
    name: spec.name,
    description: spec.description,
    setup: async () => {
      const stage = await setupStage(spec);
      onStage(stage);
      return stage;
    },
    faultTimeoutMs: parseDuration(spec.timeout),
    faults: [{
      name: spec.name,
      inject: async (stage, pid, run) => {
        await injectFault(stage, pid, run);
        return expectOf(spec);
      },
    }],
  };
}

/** mulberry32: a small seeded PRNG, so `--seed` gives the same order everywhere. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The runs in order: every scenario `repeat` times, shuffled by the seed (Fisher–Yates). */
export function runOrder(names: readonly string[], repeat: number, seed: number): { scenario: string; repetition: number }[] {
  const runs = Array.from({ length: repeat }, (_, r) => names.map((scenario) => ({ scenario, repetition: r + 1 }))).flat();
  const rnd = random(seed);
  for (let i = runs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [runs[i], runs[j]] = [runs[j]!, runs[i]!];
  }
  return runs;
}

export function loadCampaign(file: string): { campaign: CampaignSpec; scenarios: Map<string, ScenarioSpec> } {
  const campaign = loadYaml(file, campaignSchema);
  const scenarios = new Map<string, ScenarioSpec>();
  for (const ref of campaign.scenarios) {
    const s = loadScenario(scenarioPath(ref, file));
    scenarios.set(s.name, s);
  }
  return { campaign, scenarios };
}

function failed(spec: ScenarioSpec, why: string): FaultResult {
  const e = expectOf(spec);
  return {
    fault: spec.name, detectMs: null, rootCause: '-', action: 'none', recoverMs: null, outcome: 'not run', ok: false, why,
    expect: { service: e.service, cause: e.cause, actions: e.actions, status: e.status }, ticket: null, tickets: 0, actions: [], needless: 0,
  };
}

export async function runCampaign(file: string, opts: EvalOptions = {}): Promise<EvalReport> {
  const { campaign, scenarios } = loadCampaign(file);
  const repeat = opts.repeat ?? campaign.repeat;
  const seed = opts.seed ?? 1;
  const started = Date.now();
  const order = runOrder([...scenarios.keys()], repeat, seed);
  const runs: RunRecord[] = [];
  for (const [i, run] of order.entries()) {
    const spec = scenarios.get(run.scenario)!;
    opts.progress?.(i, order.length, spec.name);
    const base = { scenario: spec.name, repetition: run.repetition, covered: spec.covered, aiopslab: spec.reference?.aiopslab ?? null };
    let config: string | null = null;
    const kept = (): { config: string | null } => ({ config: opts.keep ? config : null });
    try {
      const [result] = await runScenario(asDemoScenario(spec, (s) => { config = s.configPath; }), { log: opts.log ?? (() => undefined), keep: opts.keep ?? false });
      runs.push({ ...base, result: result ?? failed(spec, 'no result'), error: null, ...kept() });
    } catch (e) {
      runs.push({ ...base, result: failed(spec, errorText(e)), error: errorText(e), ...kept() });
    }
  }
  opts.progress?.(order.length, order.length, '');
  return {
    campaign: campaign.name, file, seed, repeat, startedAt: new Date(started).toISOString(), durationMs: Date.now() - started,
    // Rules only: no LLM diagnoser exists yet, so calls and tokens are 0 by construction.
    diagnosers: ['rules'], metrics: computeMetrics(runs), runs,
  };
}
