// Every plugin family in one table, for what looks across families: `warden doctor`, the start-up
// and reload report, `validate`'s warnings. Each family's own table lives with its plugins.
import { actions } from '../actions/index.js';
import { diagnosers } from '../diagnosis/diagnoser.js';
import type { ResolvedConfig } from '../domain/types.js';
import { kinds } from '../kinds/index.js';
import { channels } from '../notify/channels.js';
import { probes } from '../probes/index.js';
import { subjects } from '../subjects/index.js';
import type { Family, Plugin, PluginStatus } from './plugin.js';
import { evaluate, type EvalOptions } from './prerequisites.js';

export const families: { [F in Family]: Record<string, Plugin> } = { kind: kinds, probe: probes, action: actions, channel: channels, diagnoser: diagnosers, subject: subjects };

/** Every plugin's prerequisites evaluated now, family by family in table order. */
export async function pluginStatuses(opts: EvalOptions = {}): Promise<PluginStatus[]> {
  const all = Object.entries(families).flatMap(([family, table]) => Object.values(table).map((p) => ({ family: family as Family, p })));
  return Promise.all(all.map(async ({ family, p }) => ({ family, name: p.name, description: p.description, ...(await evaluate(p.prerequisites, opts)) })));
}

/** A plugin the config uses that is not enabled, and where: "service web (kind systemd)". */
export interface UnusablePlugin {
  status: PluginStatus;
  usedBy: string[];
}

/** What the config needs from each family, so a disabled plugin it uses is reported, not silently idle. */
export function pluginsUsed(cfg: ResolvedConfig): Map<string, string[]> {
  const used = new Map<string, string[]>();
  const use = (family: Family, name: string, by: string): void => {
    const key = `${family}:${name}`;
    used.set(key, [...(used.get(key) ?? []), by]);
  };
  for (const s of cfg.services) {
    use('kind', s.kind, `service ${s.name}`);
    for (const c of s.checks) use('probe', c.probe.type, `check ${s.name}/${c.id}`);
  }
  for (const r of cfg.policy.rules) for (const a of r.allow) use('action', a, `policy rule for ${r.match.service}`);
  for (const n of cfg.notify) use('channel', n.type, `notify ${n.name}`);
  for (const s of cfg.subjects) use('subject', s.type, `subject ${s.name}`);
  use('diagnoser', 'rules', 'diagnosis');
  return used;
}

export function unusablePlugins(cfg: ResolvedConfig, statuses: readonly PluginStatus[]): UnusablePlugin[] {
  const used = pluginsUsed(cfg);
  return statuses
    .filter((s) => s.state !== 'enabled' && used.has(`${s.family}:${s.name}`))
    .map((status) => ({ status, usedBy: used.get(`${status.family}:${status.name}`) ?? [] }));
}

/** One line per unusable plugin, for logs and warnings. */
export function describeUnusable(u: UnusablePlugin): string {
  const by = u.usedBy.length > 3 ? `${u.usedBy.slice(0, 3).join(', ')} and ${u.usedBy.length - 3} more` : u.usedBy.join(', ');
  return `${u.status.family} ${u.status.name} is ${u.status.state} (${u.status.reason}); needed by ${by}`;
}

/**
 * Logs one line per plugin the config needs that is not enabled (at start and on reload), so a
 * service whose kind is disabled is reported, never silently unobserved (and, with `onUnusable`,
 * notified). Never rejects.
 */
export async function reportUnusable(cfg: ResolvedConfig, log: (line: string) => void, onUnusable?: (u: UnusablePlugin) => void): Promise<void> {
  try {
    for (const u of unusablePlugins(cfg, await pluginStatuses())) {
      log(`plugins: ${describeUnusable(u)}`);
      onUnusable?.(u);
    }
  } catch (e) {
    log(`plugins: cannot evaluate prerequisites: ${e instanceof Error ? e.message : String(e)}`);
  }
}
