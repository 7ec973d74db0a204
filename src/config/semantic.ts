// Rules that span more than one value: unique names, references between services and hosts,
// dependency cycles, one probe per check. They run on the raw data even when the schema found
// problems elsewhere, so one run reports everything; each rule skips values the schema rejects.
import { subjects } from '../subjects/index.js';
import { isLoopback, parseAddress } from '../lib/address.js';
import { formatDuration, parseDuration } from '../lib/duration.js';
import { listNames, show } from './fields.js';
import { SSH_ONLY } from './hosts.js';
import { atPath, didYouMean, type PathIssue, type PathSeg } from './issues.js';
import { kinds } from '../kinds/index.js';
import type { KindPlugin } from '../kinds/kind.js';
import { channels } from '../notify/channels.js';
import { PROBE_TYPES } from '../probes/index.js';
import { workflowIssues } from './workflow.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * A host reached over SSH needs an address, and its name is its ticket's (one ticket for the host
 * when it is down), so no service may have it; a local host takes none of the ssh fields.
 */
function sshHosts(hosts: unknown[], serviceNames: ReadonlyMap<string, number>, add: (path: PathSeg[], message: string, at?: 'key' | 'value') => void): void {
  hosts.forEach((h, i) => {
    if (!isObj(h)) return;
    const base: PathSeg[] = ['hosts', i];
    if (h.transport === 'ssh') {
      if (h.address === undefined) add(base, 'transport ssh needs address: the host name, address or ~/.ssh/config alias to connect to');
      const n = str(h.name);
      if (n !== null && serviceNames.has(n)) add([...base, 'name'], `host name ${show(n)} is also a service's; a host reached over SSH needs a name of its own (its tickets are named after it)`);
      return;
    }
    for (const key of SSH_ONLY) if (h[key] !== undefined) add([...base, key], `${key} is for transport ssh; this host is local (add transport: ssh to reach it over SSH)`, 'key');
  });
}

function durationOr(v: unknown, fallback: string): number | null {
  try {
    return parseDuration(v === undefined ? fallback : (v as string));
  } catch {
    return null;
  }
}

/** `lineOf(path)` names where the first of two duplicates is, so the message says which to rename. */
export function semanticIssues(raw: unknown, lineOf: (path: PathSeg[]) => number): PathIssue[] {
  if (!isObj(raw)) return [];
  const issues: PathIssue[] = [];
  const add = (path: PathSeg[], message: string, at?: 'key' | 'value'): void => {
    issues.push({ path, message: atPath(path, message), ...(at ? { at } : {}) });
  };

  /** Reports repeated names among `items` (each named by `nameOf`), pointing at the repeat. */
  const unique = (base: PathSeg[], items: unknown[], what: (name: string) => string, nameOf: (item: Obj, i: number) => { name: string; path: PathSeg[] } | null): Map<string, number> => {
    const first = new Map<string, number>();
    items.forEach((item, i) => {
      if (!isObj(item)) return;
      const n = nameOf(item, i);
      if (n === null) return;
      const prev = first.get(n.name);
      if (prev === undefined) first.set(n.name, i);
      else add(n.path, `duplicate ${what(n.name)}; the first is at line ${lineOf([...base, prev])}`);
    });
    return first;
  };
  /** A check names its probe, a channel its type, by the one plugin key it has. */
  const exactlyOne = (base: PathSeg[], item: Obj, names: readonly string[], what: string): void => {
    const found = names.filter((t) => item[t] !== undefined);
    const second = found[1];
    const expected = `${names.slice(0, -1).join(', ')}${names.length > 1 ? ' or ' : ''}${names[names.length - 1] ?? ''}`;
    if (found.length === 0) add(base, `${what} needs exactly one of ${expected}; found none`);
    else if (second !== undefined) add([...base, second], `${what} needs exactly one of ${expected}; found ${found.join(' and ')}`, 'key');
  };
  const byName = (base: PathSeg[]) => (item: Obj, i: number) => {
    const name = str(item.name);
    return name === null ? null : { name, path: [...base, i, 'name'] };
  };

  // Hosts: absent means the single default host `local`.
  const hostsGiven = raw.hosts !== undefined;
  const hostNames = hostsGiven ? unique(['hosts'], list(raw.hosts), (n) => `host name ${show(n)}`, byName(['hosts'])) : new Map([['local', 0]]);

  const services = list(raw.services);
  const serviceNames = unique(['services'], services, (n) => `service name ${show(n)}`, byName(['services']));
  sshHosts(list(raw.hosts), serviceNames, add);
  const sshHostNames = new Set(list(raw.hosts).filter((h): h is Obj => isObj(h) && h.transport === 'ssh').map((h) => str(h.name)).filter((n): n is string => n !== null));
  const known = [...serviceNames.keys()];
  // Each guess scans every service name; past a few dozen unknown names the problem is not a typo,
  // and guessing on would make a large file with many of them quadratic.
  let guesses = 50;
  const guess = (word: string): string | null => (guesses-- > 0 ? didYouMean(word, known) : null);
  const unknownService = (path: PathSeg[], n: string): void => {
    const likely = guess(n);
    add(path, `unknown service ${show(n)}${likely ? ` (did you mean "${likely}"?)` : ''}; services are: ${listNames(known)}`);
  };

  services.forEach((svc, i) => {
    if (!isObj(svc)) return;
    const base: PathSeg[] = ['services', i];
    const name = str(svc.name);

    const host = svc.host === undefined ? 'local' : str(svc.host);
    if (host !== null && Array.isArray(raw.hosts ?? []) && !hostNames.has(host)) {
      const defined = hostNames.size > 0 ? `; hosts are: ${listNames([...hostNames.keys()])}` : '; no hosts are defined';
      if (svc.host === undefined) add(base, `host defaults to "local", but no host is named "local"${defined}`);
      else add([...base, 'host'], `unknown host ${show(host)}${defined}`);
    }

    // What drives the service depends on its kind: its own fields, and none of another kind's.
    const kind = kindOf(svc.kind === undefined ? 'process' : svc.kind);
    if (kind?.name === 'process' && host !== null && sshHostNames.has(host)) {
      add([...base, 'kind'], `kind process runs as Warden's own child, so only on Warden's host; host ${show(host)} is reached over SSH: use kind: systemd there (docs/fleet.md)`, svc.kind === undefined ? undefined : 'value');
    }
    if (kind !== null) {
      for (const [key, need] of Object.entries(kind.required)) {
        if (svc[key] === undefined) add(base, `kind ${kind.name} needs ${key}: ${String(need)}`);
      }
      for (const other of Object.values(kinds) as KindPlugin[]) {
        if (other === kind) continue;
        for (const key of Object.keys(other.fields)) {
          if (svc[key] !== undefined && !Object.hasOwn(kind.fields, key)) add([...base, key], `${key} is for kind ${other.name}; ${kind.hint}`, 'key');
        }
      }
    }

    list(svc.dependsOn).forEach((dep, j) => {
      if (typeof dep !== 'string') return;
      if (dep === name) add([...base, 'dependsOn', j], `service ${show(dep)} cannot depend on itself`);
      else if (!serviceNames.has(dep)) unknownService([...base, 'dependsOn', j], dep);
    });

    const checks = list(svc.checks);
    checks.forEach((check, j) => {
      if (!isObj(check)) return;
      const cbase = [...base, 'checks', j];
      exactlyOne(cbase, check, PROBE_TYPES, 'a check');
      const interval = durationOr(check.interval, '1s');
      const timeout = durationOr(check.timeout, '500ms');
      if (interval !== null && timeout !== null && timeout > interval) {
        const which = check.timeout === undefined ? `the default timeout (${formatDuration(timeout)})` : `timeout ${formatDuration(timeout)}`;
        add([...cbase, check.timeout === undefined ? 'interval' : 'timeout'], `${which} is longer than interval ${formatDuration(interval)}; a probe must finish before the next one starts`);
      }
      const bound = check.slowerThan === undefined ? null : durationOr(check.slowerThan, '0ms');
      if (bound !== null && timeout !== null && bound >= timeout) {
        add([...cbase, 'slowerThan'], `slowerThan ${formatDuration(bound)} is not below timeout ${formatDuration(timeout)}: an answer that late times out first; lower slowerThan or raise timeout`);
      }
    });
    unique([...base, 'checks'], checks, (n) => `check id ${show(n)} in service ${show(name ?? String(i))}`, (c, j) => {
      const type = PROBE_TYPES.find((t) => c[t] !== undefined);
      if (typeof c.name === 'string') return { name: c.name, path: [...base, 'checks', j, 'name'] };
      return type === undefined ? null : { name: checkId(undefined, type, j), path: [...base, 'checks', j] };
    });

    unique([...base, 'runbooks'], list(svc.runbooks), (n) => `runbook name ${show(n)} in service ${show(name ?? String(i))}`, byName([...base, 'runbooks']));
    workflowIssues(svc, base, add);
  });

  list(raw.notify).forEach((n, i) => {
    if (isObj(n)) exactlyOne(['notify', i], n, Object.keys(channels), 'a notify channel');
  });

  // Subjects: one type each, known members, and a name no service has (its ticket is named after it).
  const subjectList = list(raw.subjects);
  unique(['subjects'], subjectList, (n) => `subject name ${show(n)}`, byName(['subjects']));
  subjectList.forEach((s, i) => {
    if (!isObj(s)) return;
    const base: PathSeg[] = ['subjects', i];
    exactlyOne(base, s, Object.keys(subjects), 'a subject');
    const sname = str(s.name);
    if (sname !== null && serviceNames.has(sname)) add([...base, 'name'], `subject name ${show(sname)} is also a service's; a subject needs a name of its own`);
    list(s.members).forEach((m, j) => {
      if (typeof m === 'string' && !serviceNames.has(m)) unknownService([...base, 'members', j], m);
    });
    // A PromQL invariant's id names its finding: unique in the subject, and not one of its type's own.
    const where = `subject ${show(sname ?? String(i))}`;
    unique([...base, 'promql'], list(s.promql), (n) => `invariant id ${show(n)} in ${where}`, (q, j) => {
      const id = str(q.id);
      return id === null ? null : { name: id, path: [...base, 'promql', j, 'id'] };
    });
    const type = Object.keys(subjects).find((t) => s[t] !== undefined);
    const own = type === undefined ? [] : subjects[type as keyof typeof subjects].invariants.map((inv) => inv.id);
    list(s.promql).forEach((q, j) => {
      const id = isObj(q) ? str(q.id) : null;
      if (id !== null && own.includes(id)) add([...base, 'promql', j, 'id'], `invariant id ${show(id)} is one of the ${type ?? ''} subject's own (${own.join(', ')}); give the PromQL invariant an id of its own`);
    });
  });

  for (const cycle of dependencyCycles(services, serviceNames)) add(cycle.path, `dependency cycle: ${cycle.names.join(' -> ')}`);
  if (isObj(raw.agent) && isObj(raw.agent.api)) remoteApi(raw.agent.api, add);
  approvalIssues(raw, add, unique, byName);
  return issues;
}

type Add = (path: PathSeg[], message: string, at?: 'key' | 'value') => void;

/**
 * People and approvers: a person named once; approvers only where approval is required, each a
 * person (when people are listed), a role someone has or a named API token; a quorum the named
 * approvers can reach; a token acts for a listed person.
 */
function approvalIssues(raw: Obj, add: Add, unique: (base: PathSeg[], items: unknown[], what: (name: string) => string, nameOf: (item: Obj, i: number) => { name: string; path: PathSeg[] } | null) => Map<string, number>,
  byName: (base: PathSeg[]) => (item: Obj, i: number) => { name: string; path: PathSeg[] } | null): void {
  const people = list(raw.people);
  const names = unique(['people'], people, (n) => `person ${show(n)}`, byName(['people']));
  const api = isObj(raw.agent) && isObj(raw.agent.api) ? raw.agent.api : {};
  const roles = new Set([
    ...people.flatMap((p) => (isObj(p) ? list(p.roles).filter((r): r is string => typeof r === 'string') : [])),
    ...list(api.tokens).map((t) => (isObj(t) ? str(t.role) : null)).filter((r): r is string => r !== null),
  ]);
  const tokens = new Set(list(api.tokens).map((t) => (isObj(t) ? str(t.name) : null)).filter((n): n is string => n !== null));
  list(api.tokens).forEach((t, i) => {
    const person = isObj(t) ? str(t.person) : null;
    if (person !== null && !names.has(person)) add(['agent', 'api', 'tokens', i, 'person'], `unknown person ${show(person)}; ${names.size > 0 ? `people are: ${[...names.keys()].join(', ')}` : 'list them under people:'}`);
  });
  const policy = isObj(raw.policy) ? raw.policy : {};
  list(policy.rules).forEach((rule, i) => {
    if (!isObj(rule)) return;
    const base: PathSeg[] = ['policy', 'rules', i];
    const required = rule.approval === 'required';
    for (const key of ['approvers', 'quorum', 'approvalTtl'] as const) {
      if (rule[key] !== undefined && !required) add([...base, key], `${key} applies only to a rule with approval: required`, 'key');
    }
    const approvers = list(rule.approvers).filter((a): a is string => typeof a === 'string');
    approvers.forEach((a, j) => {
      if (a.startsWith('token:')) {
        if (!tokens.has(a.slice(6))) add([...base, 'approvers', j], `no API token named ${show(a.slice(6))}${tokens.size > 0 ? `; tokens are: ${[...tokens].join(', ')}` : '; name tokens under agent.api.tokens'}`);
      } else if (a.startsWith('role:')) {
        if (!roles.has(a.slice(5))) add([...base, 'approvers', j], `no person has role ${show(a.slice(5))}${roles.size > 0 ? `; roles are: ${[...roles].join(', ')}` : '; give people roles under people:'}`);
      } else if (people.length > 0 && !names.has(a)) {
        add([...base, 'approvers', j], `unknown person ${show(a)}; people are: ${[...names.keys()].join(', ')}`);
      }
    });
    const quorum = typeof rule.quorum === 'number' ? rule.quorum : 1;
    const onlyNames = approvers.length > 0 && approvers.every((a) => !a.startsWith('role:'));
    if (onlyNames && quorum > new Set(approvers).size) add([...base, 'quorum'], `quorum ${quorum} cannot be reached by ${new Set(approvers).size} approver(s)`);
  });
}

/**
 * An API other hosts can reach is asked for (allowRemote), and then its token travels over TLS or
 * there is a stated reason why it need not (a private interface).
 */
function remoteApi(api: Obj, add: (path: PathSeg[], message: string, at?: 'key' | 'value') => void): void {
  const listen = str(api.listen);
  const addr = listen === null ? null : parseAddress(listen);
  if (addr === null || isLoopback(addr.host)) return;
  const base: PathSeg[] = ['agent', 'api'];
  if (api.allowRemote !== true) {
    add([...base, 'listen'], `${listen} can be reached from other hosts; set allowRemote: true (with tls: { cert, key }) if that is meant, or listen on 127.0.0.1`);
  } else if (api.tls === undefined && api.insecureReason === undefined) {
    add([...base, 'allowRemote'], 'a remote API sends its bearer token over the network: give tls: { cert: FILE, key: FILE }, or insecureReason: "..." saying why plain HTTP is safe here (e.g. a private WireGuard interface)');
  }
}

function kindOf(name: unknown): KindPlugin | null {
  return typeof name === 'string' && Object.hasOwn(kinds, name) ? (kinds as Record<string, KindPlugin>)[name] ?? null : null;
}

/** A check's id: its name, or its probe type and position, which stay put while the file does. */
export function checkId(name: string | undefined, type: string, index: number): string {
  return name ?? `${type}#${index}`;
}

/**
 * The loops a depth-first search meets (at least one in every knot of services that depend on each
 * other), each once, starting from its service defined first and pointing at that service's
 * dependsOn entry that leads around the loop.
 */
function dependencyCycles(services: unknown[], index: Map<string, number>): { names: string[]; path: PathSeg[] }[] {
  const deps = (i: number): string[] => {
    const svc = services[i];
    return isObj(svc) ? list(svc.dependsOn).filter((d): d is string => typeof d === 'string' && index.has(d)) : [];
  };
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const seen = new Set<string>();
  const cycles: { names: string[]; path: PathSeg[] }[] = [];

  const visit = (name: string): void => {
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of deps(index.get(name) ?? -1)) {
      if (dep === name) continue; // reported as "cannot depend on itself"
      if (state.get(dep) === 'visiting') {
        const loop = stack.slice(stack.indexOf(dep));
        // Rotate so the loop starts at the service defined first: one report per loop, stable order.
        const start = loop.reduce((a, b) => ((index.get(a) ?? 0) <= (index.get(b) ?? 0) ? a : b));
        const k = loop.indexOf(start);
        const names = [...loop.slice(k), ...loop.slice(0, k)];
        const key = names.join('\0');
        if (!seen.has(key)) {
          seen.add(key);
          const from = index.get(start) ?? 0;
          const to = names[1] ?? start;
          const svc = services[from];
          const j = isObj(svc) ? list(svc.dependsOn).indexOf(to) : 0;
          cycles.push({ names: [...names, start], path: ['services', from, 'dependsOn', j] });
        }
      } else if (state.get(dep) === undefined) {
        visit(dep);
      }
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of index.keys()) if (state.get(name) === undefined) visit(name);
  return cycles;
}
