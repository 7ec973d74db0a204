// The etcd subject's actions, registered as `etcd.<name>`, each on one member (its target). Each
// asks the cluster as it is now (live.ts) and does only what is still to do, so running it again —
// a retry, or after Warden restarted mid-action — repeats nothing harmful; `resume` says so for each.
import { rmSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { ActionContext } from '../../actions/catalog.js';
import type { ProcessServiceSpec, SubjectSpec } from '../../domain/types.js';
import { performance } from 'node:perf_hooks';
import { sleep } from '../../lib/wait.js';
import { actionParams, defineSubjectAction, rerunnable } from '../subject.js';
import { EtcdError, type Alarm } from './client.js';
import { anotherAnswering, answered, askAll, clientOf, EtcdActionError } from './live.js';

/**
 * A backend file this full (of the quota) needs defragmenting under NOSPACE: etcd judges the quota
 * on the file's size, free pages included. Still this full after defragmenting, it holds that much
 * live data, and giving space back needs a person (the same bound, so a repair cannot loop).
 */
export const FULL_RATIO = 0.8;
/** Defragmenting rewrites the whole backend and blocks the member meanwhile. */
const DEFRAG_TIMEOUT_MS = 60_000;

/** The subject every etcd action needs: the executor gives it for a member's action. */
function memberCtx(ctx: ActionContext): ActionContext & { subject: SubjectSpec } {
  if (ctx.subject === undefined) throw new EtcdActionError('ETCD_ACTION_CONFIG', `${ctx.action.type}: ${ctx.spec.name} is not a member of any etcd subject`);
  return { ...ctx, subject: ctx.subject };
}

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

const defragParams = z.strictObject({
  compact: bool.default(true).meta({ description: 'Compact the key history to the current revision first (cluster-wide), so defragmenting gives the space back.' }),
});

export const defragment = defineSubjectAction({
  name: 'defragment',
  tier: 'repair-service',
  description: 'compacts the history to the current revision (param compact, default true), then defragments the target member',
  config: defragParams,
  compile: (p) => p,
  prerequisites: [],
  kind: {
    async run(ctx, signal) {
      const { subject, spec } = memberCtx(ctx);
      const { compact } = actionParams(defragParams, ctx);
      const c = clientOf(subject, spec.name, DEFRAG_TIMEOUT_MS);
      const before = await c.status({ signal });
      let did = '';
      if (compact) {
        try {
          await c.compact(before.revision, { signal });
          did = `compacted to revision ${before.revision}, `;
        } catch (e) {
          // Compacted to this revision already (by a step before, or a person): the history is gone, as wanted.
          if (!(e instanceof EtcdError && e.etcdMessage?.includes('has been compacted') === true)) throw e;
          did = `history compacted already (revision ${before.revision}), `;
        }
      }
      await c.defragment({ signal });
      const after = await c.status({ signal });
      const { quotaBytes } = await c.space({ signal });
      const sizes = `${spec.name}'s backend ${before.dbSize} → ${after.dbSize} bytes of a ${quotaBytes}-byte quota`;
      if (after.dbSize >= FULL_RATIO * quotaBytes) {
        throw new EtcdActionError('ETCD_ACTION_REFUSED', `${did}defragmented, but ${sizes} (over ${FULL_RATIO * 100}%): the live data leaves too little room; delete keys or raise --quota-backend-bytes`);
      }
      return `${did}defragmented: ${sizes}`;
    },
    resume: rerunnable('compacting to a revision compacted already is refused as done, and defragmenting again rewrites the same data: run again'),
    timeoutMs: () => 2 * DEFRAG_TIMEOUT_MS + 5_000,
  },
});

const disarmParams = z.strictObject({
  alarm: z.enum(['NOSPACE', 'CORRUPT']).default('NOSPACE').meta({ description: 'The alarm to disarm, wherever it is raised.' }),
});

export const disarm = defineSubjectAction({
  name: 'disarm',
  tier: 'repair-cluster',
  description: 'disarms an alarm (param alarm, default NOSPACE) for every member that raised it, through the target member',
  config: disarmParams,
  compile: (p) => p,
  prerequisites: [],
  kind: {
    async run(ctx, signal) {
      const { subject, spec } = memberCtx(ctx);
      const { alarm } = actionParams(disarmParams, ctx);
      const c = clientOf(subject, spec.name);
      const raised = (await c.alarms({ signal })).filter((a: Alarm) => a.alarm === alarm);
      if (raised.length === 0) return `no ${alarm} alarm raised: nothing to disarm`;
      for (const a of raised) await c.disarm(a, { signal });
      const left = (await c.alarms({ signal })).filter((a) => a.alarm === alarm);
      if (left.length > 0) throw new EtcdError('ETCD_REQUEST_FAILED', c.endpoint, `${alarm} still raised by ${left.map((a) => a.memberId).join(', ')} after disarming`);
      return `disarmed ${alarm} raised by member ${raised.map((a) => a.memberId).join(', ')}`;
    },
    resume: rerunnable('disarming an alarm that is gone does nothing: run again'),
    timeoutMs: () => 10_000,
  },
});

/** How long a leadership transfer may take to show in the target's own status. */
const MOVE_WAIT_MS = 5_000;

export const moveLeader = defineSubjectAction({
  name: 'move-leader',
  tier: 'repair-cluster',
  description: 'makes the target member the leader (nothing to do when it leads already)',
  config: z.strictObject({}),
  compile: (p) => p,
  prerequisites: [],
  kind: {
    async run(ctx, signal) {
      const { subject, spec } = memberCtx(ctx);
      const target = clientOf(subject, spec.name);
      const st = await target.status({ signal });
      if (st.leader === st.memberId) return `${spec.name} (${st.memberId}) leads already: nothing to do`;
      if (st.leader === null) throw new EtcdError('ETCD_REQUEST_FAILED', target.endpoint, `${spec.name} knows no leader (an election is under way)`, { etcdMessage: 'no leader' });
      // The transfer must be asked of the leader itself.
      const at = [...await askAll(subject, signal)].find(([, v]) => !(v instanceof Error) && v.memberId === st.leader)?.[0];
      if (at === undefined) throw new EtcdActionError('ETCD_NO_MEMBER', `the leader ${st.leader} that ${spec.name} names does not answer Warden`);
      await clientOf(subject, at).moveLeader(st.memberId, { signal });
      for (const end = performance.now() + MOVE_WAIT_MS; performance.now() < end; await sleep(100)) {
        signal.throwIfAborted();
        const now = await target.status({ signal }).catch(() => null);
        if (now?.leader === st.memberId) return `leadership moved from ${at} to ${spec.name}`;
      }
      throw new EtcdError('ETCD_REQUEST_FAILED', target.endpoint, `${spec.name} does not lead ${MOVE_WAIT_MS} ms after the transfer`, { etcdMessage: 'leader changed' });
    },
    resume: rerunnable('a member that leads already is left as it is: run again'),
    timeoutMs: () => MOVE_WAIT_MS + 10_000,
  },
});

// ---- replace-member -----------------------------------------------------------------------------

/** The value of `--flag v` or `--flag=v` in an argv; null when absent. */
export function flagValue(argv: readonly string[], flag: string): string | null {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === flag) return argv[i + 1] ?? null;
    if (a.startsWith(`${flag}=`)) return a.slice(flag.length + 1);
  }
  return null;
}

/** The argv with `--initial-cluster-state existing` (replacing `new` where it is given). */
export function joiningArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  let replaced = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--initial-cluster-state') { out.push(a, 'existing'); i++; replaced = true; continue; }
    if (a.startsWith('--initial-cluster-state=')) { out.push('--initial-cluster-state=existing'); replaced = true; continue; }
    out.push(a);
  }
  return replaced ? out : [...out, '--initial-cluster-state', 'existing'];
}

/** What replacing a member needs from its service: an argv Warden runs, its data dir and peer URL. */
export function replaceable(spec: ActionContext['spec']): { spec: ProcessServiceSpec; dataDir: string; peerUrl: string } {
  if (spec.kind !== 'process') throw new EtcdActionError('ETCD_ACTION_CONFIG', `replace-member: ${spec.name} is a ${spec.kind} service; only a kind: process member can be started with --initial-cluster-state existing`);
  const dir = flagValue(spec.start, '--data-dir');
  const peer = flagValue(spec.start, '--initial-advertise-peer-urls')?.split(',')[0];
  if (dir === null || dir === '' || peer === undefined || peer === '') {
    throw new EtcdActionError('ETCD_ACTION_CONFIG', `replace-member: ${spec.name}'s start command must give --data-dir and --initial-advertise-peer-urls (they say which data to wipe and which peer URL to add again)`);
  }
  const dataDir = isAbsolute(dir) ? dir : resolve(spec.cwd, dir);
  if (dataDir === '/') throw new EtcdActionError('ETCD_ACTION_CONFIG', `replace-member: ${spec.name}'s --data-dir is /; refusing to wipe it`);
  return { spec, dataDir, peerUrl: new URL(peer).origin };
}

/** How long the cluster may take to list a member it added, everywhere, before it is started. */
const ADD_WAIT_MS = 10_000;

export const replaceMember = defineSubjectAction({
  name: 'replace-member',
  tier: 'human-only',
  description: 'replaces a member whose data is gone: member remove, member add with its peer URL, wipe its data dir, start it with --initial-cluster-state existing',
  config: z.strictObject({}),
  compile: (p) => p,
  prerequisites: [],
  kind: {
    async run(ctx, signal) {
      const { subject } = memberCtx(ctx);
      const { spec, dataDir, peerUrl } = replaceable(ctx.spec);
      const views = await askAll(subject, signal);
      if (!(views.get(spec.name) instanceof Error)) {
        throw new EtcdActionError('ETCD_ACTION_REFUSED', `replace-member: ${spec.name} answers, so its data is not gone; restart it instead`);
      }
      const other = await anotherAnswering(subject, spec.name, signal, 10_000);
      const done: string[] = [];
      const entryOf = async (): Promise<{ id: string; started: boolean } | null> => {
        const m = (await other.client.memberList({ signal })).find((x) => x.peerUrls.some((u) => new URL(u).origin === peerUrl));
        return m === undefined ? null : { id: m.id, started: m.name !== '' };
      };
      // Each step is done only if the member list says it is still to do: a run after an
      // interruption continues where the last one stopped.
      let entry = await entryOf();
      if (entry?.started === true) {
        await stopIfRunning(ctx, spec, signal);
        const id = entry.id;
        await untilAccepted(() => other.client.memberRemove(id, { signal }), signal);
        done.push(`removed ${entry.id}`);
        entry = null;
      }
      if (entry === null) {
        const { member } = await untilAccepted(() => other.client.memberAdd([peerUrl], { signal }), signal);
        done.push(`added ${member.id} at ${peerUrl}`);
      }
      // etcd started with `existing` asks a peer for the members and exits if that peer has not
      // applied the add yet: wait until every member that answers lists it.
      await addedEverywhere(ctx, peerUrl, signal);
      await stopIfRunning(ctx, spec, signal);
      rmSync(dataDir, { recursive: true, force: true });
      // Started once with `existing`; later starts use the configured argv, whose --initial-*
      // flags etcd ignores once the data dir holds data.
      const { pid } = await ctx.driver.start({ ...spec, start: joiningArgv(spec.start) }, { signal, actionId: ctx.action.id });
      return `${[...done, `wiped ${dataDir}`].join(', ')}, started it (pid ${pid ?? '?'}) with --initial-cluster-state existing`;
    },
    resume(ctx) {
      const st = ctx.driver.state(ctx.spec);
      if (!st.running) return { outcome: 'continue', detail: `${ctx.spec.name} does not run; each step reads the member list first and does only what is left` };
      if (st.startedBy === ctx.action.id) return { outcome: 'completed', detail: `pid ${st.pid ?? '?'} was started by this action` };
      // Running, started by someone else: wiping its data dir under it is not a thing to repeat blindly.
      return { outcome: 'unknown', detail: `pid ${st.pid ?? '?'} runs, started ${st.startedBy == null ? 'by no action' : `by action ${st.startedBy}`}; not replaced again` };
    },
    timeoutMs: (ctx) => ctx.spec.stopGraceMs * 2 + ADD_WAIT_MS + 30_000,
  },
});

/**
 * A membership change, tried again while etcd refuses it for a passing reason: "unhealthy cluster"
 * for a few seconds after a member went or peers reconnected (its strict reconfiguration check).
 */
async function untilAccepted<T>(change: () => Promise<T>, signal: AbortSignal): Promise<T> {
  for (const end = performance.now() + ADD_WAIT_MS; ; await sleep(250)) {
    signal.throwIfAborted();
    try {
      return await change();
    } catch (e) {
      if (!(e instanceof EtcdError && e.retryable) || performance.now() > end) throw e;
    }
  }
}

async function stopIfRunning(ctx: ActionContext, spec: ProcessServiceSpec, signal: AbortSignal): Promise<void> {
  if (ctx.driver.state(spec).running) await ctx.driver.stop(spec, { signal, actionId: ctx.action.id });
}

async function addedEverywhere(ctx: ActionContext, peerUrl: string, signal: AbortSignal): Promise<void> {
  const { subject } = memberCtx(ctx);
  for (const end = performance.now() + ADD_WAIT_MS; ; await sleep(100)) {
    signal.throwIfAborted();
    const peers = answered(await askAll(subject, signal)).filter(([m]) => m !== ctx.spec.name);
    const lists = await Promise.all(peers.map(([m]) => clientOf(subject, m).memberList({ signal }).catch(() => [])));
    if (lists.length > 0 && lists.every((l) => l.some((x) => x.peerUrls.some((u) => new URL(u).origin === peerUrl)))) return;
    if (performance.now() > end) throw new EtcdActionError('ETCD_NO_MEMBER', `${peerUrl} was added, but not every member lists it after ${ADD_WAIT_MS} ms`);
  }
}

export const etcdActions = { defragment, disarm, 'move-leader': moveLeader, 'replace-member': replaceMember };
