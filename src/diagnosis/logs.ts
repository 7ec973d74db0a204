// What a service's log says, as one typed table: each pattern, what it means, the cause it implies,
// whether a restart can help, and the details it names (a port, an address, a path, a module).
// Log text is untrusted input: it is only matched against these fixed patterns, details are
// extracted by fixed groups and bounded, and quotes are cut to QUOTE_MAX characters.
import type { Cause } from '../domain/types.js';

export type LogSignal =
  | 'port_in_use' | 'connection_refused' | 'auth_failed' | 'permission_denied' | 'missing_module' | 'missing_file'
  | 'out_of_memory' | 'disk_full' | 'too_many_files';

export interface LogDetails {
  /** A TCP port the line names (a listen that failed). */
  port?: number;
  /** host:port the line names (a connect that was refused). */
  address?: string;
  /** A file or a module the line names. */
  path?: string;
}

export interface LogPattern {
  signal: LogSignal;
  re: RegExp;
  /** What the line means, for people: "port in use", "disk full". */
  means: string;
  cause: Cause;
  /** Whether restarting the service itself can make the condition go away. */
  restartHelps: boolean;
  /** Only when the process is no longer running: on a live one such a line is an event, not its failure. */
  fatalOnly: boolean;
  /** The resource a resource_exhausted line says is exhausted. */
  resource?: 'disk' | 'file descriptors' | 'memory';
  details?: (line: string) => LogDetails;
}

export interface LogMatch {
  signal: LogSignal;
  means: string;
  cause: Cause;
  restartHelps: boolean;
  fatalOnly: boolean;
  resource?: LogPattern['resource'];
  /** The line, cut to QUOTE_MAX characters. */
  line: string;
  details: LogDetails;
  /** Where the line is in the lines read, from the oldest: what its evidence piece is numbered by. */
  index: number;
}

export const QUOTE_MAX = 200;
const DETAIL_MAX = 120;

/** The last host:port of a line ("127.0.0.1:8080", "[::]:80", "0.0.0.0:6379"), or a "port N" field. */
function portOf(line: string): number | undefined {
  // A host-qualified port first: a bare ":12" may be part of a timestamp.
  const qualified = [...line.matchAll(/(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]*\]|::|\*|localhost):(\d{1,5})\b/gi)];
  const m = qualified.at(-1)?.[1] ?? /\bport:?\s*(\d{1,5})\b/i.exec(line)?.[1];
  const n = m === undefined ? NaN : Number(m);
  return n > 0 && n < 65536 ? n : undefined;
}

function addressOf(line: string): string | undefined {
  const m = /((?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\]|localhost)):(\d{1,5})\b/i.exec(line);
  return m ? `${m[1]}:${m[2]}` : undefined;
}

/** The first quoted path or module name after the marker: 'x', "x" or `x`. */
function quotedAfter(marker: RegExp): (line: string) => LogDetails {
  return (line) => {
    const at = marker.exec(line);
    if (!at) return {};
    const m = /['"`]([^'"`]{1,300})['"`]/.exec(line.slice(at.index));
    return m?.[1] ? { path: m[1].slice(0, DETAIL_MAX) } : {};
  };
}

/**
 * The table. Order matters where one line could match two patterns: the more specific comes first
 * (a missing module is also an ENOENT; a listen refused with EACCES is a permission problem).
 */
export const LOG_PATTERNS: readonly LogPattern[] = [
  {
    signal: 'port_in_use', re: /EADDRINUSE|address already in use/i, means: 'port already in use',
    cause: 'config_drift', restartHelps: false, fatalOnly: true,
    details: (line) => { const port = portOf(line); return port === undefined ? {} : { port }; },
  },
  {
    signal: 'connection_refused', re: /ECONNREFUSED|connection refused/i, means: 'connection refused',
    cause: 'dependency_down', restartHelps: true, fatalOnly: false,
    details: (line) => { const address = addressOf(line); return address === undefined ? {} : { address }; },
  },
  {
    // A dependency refusing the credentials it was given (Redis, HTTP, databases): changed or revoked.
    signal: 'auth_failed', re: /\bNOAUTH\b|\bWRONGPASS\b|authentication (?:failed|required)|invalid (?:username-)?password|access denied for user|\b401 Unauthorized/i,
    means: 'credentials refused', cause: 'config_drift', restartHelps: false, fatalOnly: false,
    details: (line) => { const address = addressOf(line); return address === undefined ? {} : { address }; },
  },
  {
    signal: 'missing_module', re: /Cannot find (?:module|package)|ERR_MODULE_NOT_FOUND|MODULE_NOT_FOUND|ModuleNotFoundError|No module named/i,
    means: 'module not found', cause: 'config_drift', restartHelps: false, fatalOnly: true,
    details: (line) => {
      const named = /No module named ['"]?([\w.-]{1,120})/.exec(line);
      return named?.[1] ? { path: named[1] } : quotedAfter(/Cannot find|not found/i)(line);
    },
  },
  {
    signal: 'permission_denied', re: /EACCES|EPERM|permission denied|operation not permitted/i, means: 'permission denied',
    cause: 'config_drift', restartHelps: false, fatalOnly: true, details: quotedAfter(/EACCES|EPERM|permission denied|operation not permitted/i),
  },
  {
    signal: 'missing_file', re: /ENOENT|no such file or directory/i, means: 'file not found',
    cause: 'config_drift', restartHelps: false, fatalOnly: true, details: quotedAfter(/ENOENT|no such file/i),
  },
  {
    signal: 'disk_full', re: /ENOSPC|no space left on device/i, means: 'disk full',
    cause: 'resource_exhausted', restartHelps: false, fatalOnly: false, resource: 'disk',
  },
  {
    signal: 'too_many_files', re: /EMFILE|ENFILE|too many open files/i, means: 'file descriptors exhausted',
    cause: 'resource_exhausted', restartHelps: true, fatalOnly: false, resource: 'file descriptors',
  },
  {
    signal: 'out_of_memory', re: /ENOMEM|out of memory|heap out of memory|cannot allocate memory|OOM[- ]?kill/i, means: 'memory exhausted',
    cause: 'resource_exhausted', restartHelps: true, fatalOnly: false, resource: 'memory',
  },
];

/** Warden's own note before each start of a process service (kinds/process/supervisor.ts), stamped
 *  by the log collector; logs from before the collector have the time inside the brackets. */
const START_MARKER = /^(?:\S+ )?\[warden[^\]]*\] starting: /;

/** The lines of the last run: older runs' lines describe failures that are over. */
export function lastRun(lines: readonly string[]): readonly string[] {
  for (let i = lines.length - 1; i >= 0; i--) if (START_MARKER.test(lines[i]!)) return lines.slice(i + 1);
  return lines;
}

function matchLine(line: string, index: number): LogMatch | null {
  const p = LOG_PATTERNS.find((x) => x.re.test(line));
  if (!p) return null;
  const { signal, means, cause, restartHelps, fatalOnly, resource } = p;
  return { signal, means, cause, restartHelps, fatalOnly, ...(resource ? { resource } : {}), line: line.slice(0, QUOTE_MAX), details: p.details?.(line) ?? {}, index };
}

/**
 * What the log tail says, one match per signal, newest signal first. Within a signal the newest line
 * that names a detail is quoted (a stack trace's "code: 'EADDRINUSE'" follows the line with the port).
 */
export function readLog(lines: readonly string[]): LogMatch[] {
  const found = new Map<LogSignal, LogMatch>();
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = matchLine(lines[i]!, i);
    if (!m) continue;
    const prev = found.get(m.signal);
    if (!prev) found.set(m.signal, m);
    else if (Object.keys(prev.details).length === 0 && Object.keys(m.details).length > 0) found.set(m.signal, { ...m });
  }
  return [...found.values()];
}

/** The ports of the failed listens in a log tail: what the runtime looks holders up for. */
export function portsInUse(lines: readonly string[]): number[] {
  return readLog(lastRun(lines)).flatMap((m) => (m.signal === 'port_in_use' && m.details.port !== undefined ? [m.details.port] : []));
}
