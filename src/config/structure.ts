// YAML that parses but cannot be trusted to become data: an alias with no anchor, or inside the node
// it names (an endless structure); a merge key (<<) of something other than maps; a key that is a
// list or a map; aliases that multiply a node past a size bound (an alias bomb, or one large node
// repeated). The YAML library throws on these without a position, or runs out of memory; here they
// are found on the document tree first and reported where they are written.
import { isAlias, isCollection, isMap, isPair, isScalar, isSeq, Scalar, visit, type Alias, type Document, type LineCounter, type Node, type Pair } from 'yaml';
import type { ConfigIssue } from './issues.js';

/**
 * The most a config may hold once its aliases are expanded, counted as values plus characters of
 * text: a 10,000-service file without aliases is about 2 M. Validation walks the expanded data, so
 * this bounds its time and memory, whatever aliases do.
 */
export const MAX_EXPANDED = 4_000_000;

export interface StructureCheck {
  issues: ConfigIssue[];
  /** Each alias's node, found once (the library's Alias.resolve() walks the whole document per call). */
  targets: Map<Alias, Node>;
  /** The document must not be converted at all (it would expand past the bound): stop here. */
  fatal: boolean;
}

/**
 * Checks the tree and neutralises what it reports, so the rest of the file can still be validated
 * and every problem is reported in one run: a broken alias becomes an empty value at its place, a
 * broken merge or key is dropped (their position is reported once; later messages there are noise).
 */
export function checkStructure(doc: Document, lines: LineCounter, file: string, limit = MAX_EXPANDED): StructureCheck {
  const issues: ConfigIssue[] = [];
  const at = (node: { range?: [number, number, number] | null } | null | undefined, message: string): void => {
    const { line, col } = lines.linePos(node?.range?.[0] ?? 0);
    issues.push({ file, line, col, message: `YAML: ${message}` });
  };
  const anchors = new Map<string, Node>();
  const targets = new Map<Alias, Node>();
  const aliases: Alias[] = [];
  const resolve = (n: unknown): unknown => (isAlias(n) ? anchors.get(n.source) : n);

  // Document order is the order anchors are defined in: an alias names the last one before it.
  visit(doc, (_key, node, path) => {
    if (isPair(node)) {
      const key = resolve(node.key);
      // JavaScript keys are strings: a list, a map or binary data (!!binary) as a key would be
      // turned into one with a process warning, and never match anything.
      const value: unknown = isScalar(key) ? key.value : null;
      if (isCollection(key) || (typeof value === 'object' && value !== null)) {
        at(node.key as Node, `a key must be a plain value such as a name; this one is ${isMap(key) ? 'a map' : isSeq(key) ? 'a list' : 'binary data'}`);
        return visit.REMOVE;
      }
      const bad = isScalar(node.key) && typeof node.key.value === 'symbol' ? badMergeSource(node, resolve) : null;
      if (bad !== null) {
        at(bad.node, `"<<" merges maps into this map: its value must be a map, an alias of one (<<: *defaults) or a list of those; ${bad.got}`);
        return visit.REMOVE;
      }
      return undefined;
    }
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      const why = target === undefined
        ? `unknown anchor "${node.source}": an alias *${node.source} needs an anchor &${node.source} on a node before it`
        : path.includes(target as never) ? `the alias *${node.source} is inside the node anchored &${node.source}, which would make it endless` : null;
      if (why !== null) {
        at(node, why);
        const empty = new Scalar(null);
        empty.range = node.range;
        return empty;
      }
      targets.set(node, target!);
      aliases.push(node);
      return undefined;
    }
    if ((isScalar(node) || isCollection(node)) && node.anchor) anchors.set(node.anchor, node);
    return undefined;
  });

  // Without aliases the data is no larger than the text, which is already in memory.
  if (aliases.length === 0) return { issues, targets, fatal: false };
  const sizes = expandedSizes(doc.contents, targets);
  const total = doc.contents === null ? 0 : sizes.get(doc.contents as Node) ?? 0;
  if (total <= limit) return { issues, targets, fatal: false };
  // The alias that stands for the most is the one to rethink (in a bomb, the outermost level).
  let worst: Alias | null = null;
  for (const a of aliases) if (worst === null || size(sizes, a) > size(sizes, worst)) worst = a;
  at(worst ?? (doc.contents as Node), `aliases expand this file to more than ${limit.toLocaleString('en-US')} values and characters (${approx(total)}); `
    + `${worst === null ? '' : `this alias alone stands for ${approx(size(sizes, worst))}; `}share fewer or smaller nodes (the rest of the file is checked once this is fixed)`);
  return { issues, targets, fatal: true };
}

function size(sizes: Map<Node, number>, n: Node): number {
  return sizes.get(n) ?? 0;
}

function approx(n: number): string {
  return n < 1e6 ? n.toLocaleString('en-US') : `about ${n.toPrecision(2).replace('e+', 'e')}`;
}

/** What is wrong with a merge key's value, or null when it is a map, an alias of one, or a list of those. */
function badMergeSource(pair: Pair, resolve: (n: unknown) => unknown): { node: Node; got: string } | null {
  const value = pair.value as Node | null;
  const src = resolve(value);
  if (isMap(src)) return null;
  if (isSeq(src)) {
    for (const item of src.items) {
      if (!isMap(resolve(item))) return { node: (isSeq(value) ? item : value) as Node, got: `this list holds ${kindOf(resolve(item))}` };
    }
    return null;
  }
  return { node: (value ?? pair.key) as Node, got: `got ${kindOf(src)}` };
}

function kindOf(n: unknown): string {
  if (isSeq(n)) return 'a list';
  if (isMap(n)) return 'a map';
  if (isScalar(n)) return n.value === null ? 'nothing' : typeof n.value === 'string' ? JSON.stringify(n.value.slice(0, 40)) : String(n.value);
  return 'nothing';
}

/**
 * Each node's size once its aliases are expanded: 1 per value plus the characters of text values.
 * Iterative and memoised: an alias only names a node that ends before it, so this is a walk over a
 * DAG, linear in the document however large the expansion it describes (sizes may reach Infinity).
 */
function expandedSizes(root: unknown, targets: Map<Alias, Node>): Map<Node, number> {
  const sizes = new Map<Node, number>();
  const children = (n: Node): Node[] => {
    if (isAlias(n)) return [targets.get(n)].filter((t): t is Node => t !== undefined);
    if (isMap(n)) return n.items.flatMap((p) => [p.key, p.value].filter((c): c is Node => c !== null && typeof c === 'object'));
    if (isSeq(n)) return n.items.filter((c): c is Node => c !== null && typeof c === 'object');
    return [];
  };
  if (root === null || typeof root !== 'object') return sizes;
  const stack: { node: Node; expanded: boolean }[] = [{ node: root as Node, expanded: false }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (sizes.has(top.node)) {
      stack.pop();
      continue;
    }
    const kids = children(top.node);
    if (!top.expanded) {
      top.expanded = true;
      for (const k of kids) if (!sizes.has(k)) stack.push({ node: k, expanded: false });
      continue;
    }
    stack.pop();
    const own = isAlias(top.node) ? 0 : isScalar(top.node) ? 1 + (typeof top.node.value === 'string' ? top.node.value.length : 0) : 1;
    sizes.set(top.node, kids.reduce((sum, k) => sum + (sizes.get(k) ?? 0), own));
  }
  return sizes;
}
