// What every plugin is, whatever its family (service kinds, probes, actions, notification
// channels): a name, a description for people, the zod schema of its config fragment, the step that
// compiles that fragment into the resolved spec the runtime uses, and what it needs from the host.
import type { z } from 'zod';
import { WardenError } from '../lib/errors.js';
import { suggestion } from '../lib/suggest.js';

export type Family = 'kind' | 'probe' | 'action' | 'channel' | 'diagnoser' | 'subject';

/**
 * Something a plugin needs from the machine, as data so `doctor` can show it and tests can
 * evaluate it. A missing thing makes the plugin `disabled`; a present but unusable one `failed`.
 */
export type Prerequisite =
  /** An executable on PATH; with `version`, its `args` output must match `pattern` (group 1 ≥ `min`). */
  | { binary: string; version?: { args: string[]; pattern: string; min?: string } }
  /** A path that must exist (a directory such as /run/systemd/system counts). */
  | { file: string }
  /** An environment variable that must be set and non-empty. */
  | { env: string }
  /** A socket that must accept a connection: a unix socket path, or host:port. */
  | { socket: string }
  /** At least one of these holds (systemd as PID 1, or its private socket reachable). */
  | { anyOf: Prerequisite[] };

export type PluginState = 'enabled' | 'disabled' | 'failed';

export interface PluginStatus {
  family: Family;
  name: string;
  description: string;
  state: PluginState;
  /** Why, in one sentence: what was found, or what is missing. */
  reason: string;
}

/** Where relative paths in a config fragment are resolved. */
export interface CompileContext {
  /** The config file's directory. */
  base: string;
  /** The owning service's working directory, for fragments inside a service (checks). */
  serviceCwd: string;
  /** The owning service's name, for fragments whose defaults come from it (a container's name). */
  service?: string;
}

export interface Plugin<N extends string = string, C extends z.ZodType = z.ZodType, Out = unknown> {
  name: N;
  description: string;
  /** The schema of the plugin's fragment of warden.yaml (its output is what `compile` gets). */
  config: C;
  compile(parsed: z.output<C>, ctx: CompileContext): Out;
  prerequisites: Prerequisite[];
}

/**
 * A family's table, checked once: every entry's key is its name, so the names the config accepts,
 * the listings and the lookups are one list.
 */
export function registry<T extends Record<string, Plugin>>(family: Family, table: T): T {
  for (const [key, plugin] of Object.entries(table)) {
    if (plugin.name !== key) {
      throw new WardenError('PLUGIN_NAME_MISMATCH', `${family} plugin registered as "${key}" calls itself "${plugin.name}"`);
    }
  }
  return table;
}

/** The plugin called `name`; an unknown name is an error with a guess, never a default. */
export function lookup<T extends Record<string, Plugin>>(family: Family, table: T, name: string): T[keyof T] {
  if (Object.hasOwn(table, name)) return table[name] as T[keyof T];
  const names = Object.keys(table);
  throw new WardenError('PLUGIN_UNKNOWN', `unknown ${family} "${name}"${suggestion(name, names)}; ${family}s are: ${names.join(', ')}`);
}

/** The table's names in table order, as a non-empty tuple for z.enum. */
export function namesOf<T extends Record<string, Plugin>>(table: T): [Extract<keyof T, string>, ...Extract<keyof T, string>[]] {
  const names = Object.keys(table) as Extract<keyof T, string>[];
  if (names.length === 0) throw new WardenError('PLUGIN_EMPTY_REGISTRY', 'a plugin registry is empty');
  return names as [Extract<keyof T, string>, ...Extract<keyof T, string>[]];
}
