// Reading warden.yaml: YAML syntax, then the schema and the cross-value rules, every problem
// collected and located before anything is compiled. A config either loads whole or not at all —
// never half-read into "everything is missing" (DESIGN.md, rule 3).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isScalar, LineCounter, parseDocument, visit, type Document, type YAMLError } from 'yaml';
import type { ResolvedConfig } from '../domain/types.js';
import { probeEndpoint } from '../probes/index.js';
import { compile } from './compile.js';
import { ConfigError, fromZodIssue, Locator, zodErrorMap, type ConfigIssue, type PathIssue } from './issues.js';
import { configSchema } from './schema.js';
import { semanticIssues } from './semantic.js';
import { checkStructure } from './structure.js';

export { ConfigError, formatIssue, type ConfigIssue, type PathIssue } from './issues.js';

/** A loaded config, and how to point at the text behind any of its paths (for later checks' messages). */
export interface LocatedConfig {
  config: ResolvedConfig;
  locate(issue: PathIssue): ConfigIssue;
}

/** Reads and compiles the config at `path`; throws ConfigError listing every problem. */
export function loadConfig(path: string): ResolvedConfig {
  return loadLocated(path).config;
}

/** loadConfig, keeping the file's positions: `validate` reports its pre-flight findings at them. */
export function loadLocated(path: string): LocatedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'ENOENT' ? ': no such file (warden init writes a commented example)' : e.code === 'EISDIR' ? ': it is a directory' : '';
    throw new ConfigError([{ file: path, line: 0, col: 0, message: `cannot read: ${e.code ?? e.message}${hint}` }], { cause: err });
  }
  return parseLocated(text, path);
}

/**
 * Validates and compiles config text. `file` names it in messages as given (keep it as the user
 * typed it) and, made absolute, is the base for relative paths in the file.
 */
export function parseConfig(text: string, file: string): ResolvedConfig {
  return parseLocated(text, file).config;
}

function parseLocated(text: string, file: string): LocatedConfig {
  const lines = new LineCounter();
  // merge: `<<: *defaults` is how people share settings between services in YAML.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, merge: true });

  // A document with syntax errors is only partly parsed; schema errors on it would mislead.
  const syntax = yamlIssues(doc, lines, file);
  if (syntax.length > 0) throw new ConfigError(syntax);
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    throw new ConfigError([{ file, line: 1, col: 1, message: 'the file is empty; expected a warden config starting with "version: 1" (warden init writes a commented example)' }]);
  }
  const structure = checkStructure(doc, lines, file);
  if (structure.fatal) throw new ConfigError(dedupe(structure.issues));
  const locator = new Locator(doc, lines, structure.targets);

  const raw = toData(doc, file);
  const found: PathIssue[] = [];
  const parsed = configSchema.safeParse(raw, { reportInput: true, error: zodErrorMap });
  if (!parsed.success) for (const issue of parsed.error.issues) found.push(...fromZodIssue(issue, configSchema, raw));
  found.push(...semanticIssues(raw, (path) => locator.position(path).line));

  // Compiling needs a config that passed every rule (a kind's required fields, one probe per check).
  const compiled = parsed.success && found.length === 0 ? compile(parsed.data, resolve(file)) : null;
  if (compiled !== null) found.push(...selfIssues(compiled));
  // Where the structure was broken, what the schema then says about the same spot is noise.
  const broken = new Set(structure.issues.map((i) => `${i.line}:${i.col}`));
  const located = found.map((p) => locator.issue(file, p)).filter((i) => !broken.has(`${i.line}:${i.col}`));
  const issues = dedupe([...structure.issues, ...located]);
  if (issues.length > 0 || compiled === null) throw new ConfigError(issues);
  return { config: compiled, locate: (p) => locator.issue(file, p) };
}

/**
 * A Warden must not be its own repairer: a service that runs this very config, or a check aimed
 * at this agent's own API, would have it restart itself. That is the job of a peer or systemd.
 */
function selfIssues(cfg: ResolvedConfig): PathIssue[] {
  const out: PathIssue[] = [];
  const api = cfg.agent.api;
  const loopback = new Set(['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0']); // URL hostnames keep the brackets
  const isOwnApi = (host: string, port: number): boolean =>
    api !== null && port === api.port && (host === api.host || (loopback.has(host) && loopback.has(api.host)));
  cfg.services.forEach((s, i) => {
    if (s.kind === 'process' && s.start.some((a) => resolve(s.cwd, a) === cfg.file) && s.start.includes('run')) {
      out.push({ path: ['services', i, 'start'], message: `services[${i}].start runs this Warden itself (${cfg.file}); a Warden cannot repair itself: let a peer Warden or systemd watch it` });
    }
    s.checks.forEach((c, j) => {
      const target = probeEndpoint(c.probe);
      if (target !== null && isOwnApi(target.host, target.port)) {
        out.push({ path: ['services', i, 'checks', j], message: `services[${i}].checks[${j}] probes this Warden's own API (${api!.host}:${api!.port}); a Warden cannot watch itself: let a peer Warden do it` });
      }
    });
  });
  return out;
}

/**
 * The document as plain data. checkStructure has removed everything the library throws on (its own
 * alias count is off: the expanded-size bound there is stricter and says where); should anything
 * still throw, it is reported as a config error rather than a crash.
 */
function toData(doc: Document, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: -1 });
  } catch (e) {
    throw new ConfigError([{ file, line: 1, col: 1, message: `YAML: cannot read this file as data: ${(e as Error).message}` }], { cause: e });
  }
}

/** Syntax errors and warnings (an unknown tag is a guess we will not make), one per position. */
function yamlIssues(doc: Document, lines: LineCounter, file: string): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const e of [...doc.errors, ...doc.warnings]) {
    const { line, col } = lines.linePos(syntaxOffset(doc, e));
    out.push({ file, line, col, message: `YAML: ${syntaxMessage(doc, e, lines)}` });
  }
  return dedupe(out, true);
}

/** An unclosed quote is reported at the end of the file; the opening quote is what needs fixing. */
function unclosedString(doc: Document, e: YAMLError): [number, number] | null {
  if (e.code !== 'MISSING_CHAR' || !/quote/.test(e.message)) return null;
  let best: [number, number] | null = null;
  visit(doc, {
    Scalar(_, node) {
      const r = node.range;
      if (r && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && r[1] <= e.pos[0] + 1 && (best === null || r[0] > best[0])) {
        best = [r[0], r[1]];
      }
    },
  });
  return best;
}

function syntaxOffset(doc: Document, e: YAMLError): number {
  return unclosedString(doc, e)?.[0] ?? e.pos[0];
}

function syntaxMessage(doc: Document, e: YAMLError, lines: LineCounter): string {
  switch (e.code) {
    case 'MISSING_CHAR': {
      const str = unclosedString(doc, e);
      return str === null ? e.message : `${e.message}: the string that starts here runs on to line ${lines.linePos(e.pos[0]).line}`;
    }
    case 'MULTIPLE_DOCS':
      return 'a config file holds one YAML document; another one starts here';
    case 'BLOCK_AS_IMPLICIT_KEY':
      return `${e.message} (is this line indented too far, or is a ": " missing a line break?)`;
    case 'TAB_AS_INDENT':
      return `${e.message}; indent with spaces`;
    default:
      return e.message;
  }
}

/** Sorted by position; one message per position (or per position and text), first wins. */
function dedupe(issues: ConfigIssue[], byPositionOnly = false): ConfigIssue[] {
  const seen = new Set<string>();
  return issues
    .map((i, n) => ({ i, n }))
    .sort((a, b) => a.i.line - b.i.line || a.i.col - b.i.col || a.n - b.n)
    .map(({ i }) => i)
    .filter((i) => {
      const key = byPositionOnly ? `${i.line}:${i.col}` : `${i.line}:${i.col}:${i.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}
