// The config the daemon last loaded, kept in its store, so that reading commands still answer while
// the file on disk is broken (a half-finished edit at 3 a.m.): the store says where to look only
// through the file itself, so its data directory is read from the broken file as leniently as we can.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseDocument } from 'yaml';

/** The store flag holding the daemon's resolved config as JSON (written at start and on reload). */
export const CONFIG_FLAG = 'config';

/** The default `agent.dataDir` (config/schema.ts), relative to the config file's directory. */
const DEFAULT_DATA_DIR = '.warden';

/**
 * Where a config file that does not load says its data lives: its `agent.dataDir` if the YAML
 * still parses that far, else a `dataDir:` line, else the default; null when the file is unreadable.
 */
export function dataDirOf(file: string): string | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  let dir: string | null = null;
  try {
    const js = parseDocument(text).toJS() as { agent?: { dataDir?: unknown } } | null;
    if (typeof js?.agent?.dataDir === 'string') dir = js.agent.dataDir;
  } catch { /* a syntax error: try the line below */ }
  dir ??= /^\s*dataDir:\s*["']?([^"'#\s]+)/m.exec(text)?.[1] ?? DEFAULT_DATA_DIR;
  return resolve(dirname(resolve(file)), dir);
}
