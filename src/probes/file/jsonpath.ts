// The JSON field a `file` check looks at, written as people write it in JavaScript: `a.b[0].c`,
// with `["key.with.dots"]` for a key that is not a plain word. Parsed once at config time.

export type PathStep = string | number;

const KEY = /^[^.[\]"]+/;
const INDEX = /^\[(\d+)\]/;
const QUOTED = /^\["((?:[^"\\]|\\.)*)"\]/;

/** The steps of `path`; throws an Error saying where it stops making sense. */
export function parseJsonPath(path: string): PathStep[] {
  const steps: PathStep[] = [];
  let rest = path;
  while (rest !== '') {
    const at = path.length - rest.length;
    if (steps.length > 0 && rest.startsWith('.')) rest = rest.slice(1);
    else if (steps.length > 0 && !rest.startsWith('[')) throw new Error(`expected "." or "[" at character ${at + 1} of ${path}`);
    const index = INDEX.exec(rest);
    const quoted = QUOTED.exec(rest);
    const key = KEY.exec(rest);
    if (index?.[1] !== undefined) steps.push(Number(index[1]));
    else if (quoted?.[1] !== undefined) steps.push(unquote(quoted[1], at, path));
    else if (key !== null && !rest.startsWith('[')) steps.push(key[0]);
    else throw new Error(`expected a key, [index] or ["key"] at character ${path.length - rest.length + 1} of ${path}`);
    rest = rest.slice((index ?? quoted ?? key)?.[0].length ?? rest.length);
  }
  if (steps.length === 0) throw new Error('expected a field such as status or members[0].health; got an empty path');
  return steps;
}

function unquote(body: string, at: number, path: string): string {
  try {
    return JSON.parse(`"${body}"`) as string;
  } catch {
    throw new Error(`expected a JSON string in ["..."] at character ${at + 1} of ${path}`);
  }
}

/** The value at `steps` in `doc`, or where the path left the document. */
export function pick(doc: unknown, steps: PathStep[]): { found: true; value: unknown } | { found: false; missing: string } {
  let node = doc;
  let walked = '';
  for (const step of steps) {
    walked += typeof step === 'number' ? `[${step}]` : /^[^.[\]"]+$/.test(step) ? `${walked === '' ? '' : '.'}${step}` : `[${JSON.stringify(step)}]`;
    if (typeof step === 'number' ? Array.isArray(node) && step < node.length : node !== null && typeof node === 'object' && !Array.isArray(node) && Object.hasOwn(node, step)) {
      node = (node as Record<string | number, unknown>)[step];
    } else {
      return { found: false, missing: walked };
    }
  }
  return { found: true, value: node };
}
