// Table-driven: every guardrail and the tiers, each as one row of (policy, situation) → verdict.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { gate, type GateInput } from './policy.js';
import type { WindowState } from './guardrails.js';
import { approverTierRefusal, scopeMatches, targetFacts, tierOf } from './tiers.js';
import { BOOT, M0, T0, makeConfig, service, type ConfigOptions } from '../testing/domain.js';
import type { ActionType, MaintenanceWindow, Scope, TierGrant } from './types.js';
import type { StartedAction } from './policy.js';
import type { Requester } from './identity.js';

const ANY: Scope = { service: '*', host: '*', group: '*', labels: {} };
const scope = (over: Partial<Scope>): Scope => ({ ...ANY, ...over });
const TIERS_OF: Record<string, 'repair-service' | 'repair-cluster' | 'human-only'> = {
  start: 'repair-service', restart: 'repair-service', stop: 'repair-service', 'run-runbook': 'repair-service',
  'etcd.move-leader': 'repair-cluster', 'etcd.replace-member': 'human-only',
};
const services = [
  service('cache', { labels: { team: 'db' } }),
  service('web', { labels: { team: 'front' } }),
  service('m1', { host: 'edge-1' }), service('m2', { host: 'edge-1' }), service('m3', { host: 'edge-2' }),
];
const subjects = [{ name: 'etcd', type: 'etcd', host: 'edge-1', members: ['m1', 'm2', 'm3'], params: {}, intervalMs: 1000 }];
const ALL_RULE = { match: { service: '*', host: '*' }, allow: Object.keys(TIERS_OF) as ActionType[], approval: 'none' as const };

function started(target: string, agoMs: number, type: ActionType = 'restart'): StartedAction {
  return { target, type, startedAt: T0 - agoMs, stamp: { mono: M0 - agoMs, boot: BOOT } };
}

interface Row {
  name: string;
  policy?: ConfigOptions['policy'];
  limits?: ConfigOptions['limits'];
  type?: ActionType;
  target?: string;
  started?: StartedAction[];
  inFlight?: number;
  windows?: WindowState[];
  frozen?: GateInput['freeze'];
  policyError?: string;
  /** Who asks: the agent when absent. */
  requester?: Requester;
  /** 'ok' | 'approval' | blockedBy */
  want: string;
  /** A part of the reason (or of a check's detail when allowed). */
  says?: string;
}

function window(effect: 'allow' | 'deny', open: boolean, over: Partial<MaintenanceWindow> = {}): WindowState {
  const w: MaintenanceWindow = { name: `${effect}-w`, cron: '0 2 * * *', durationMs: 3_600_000, effect, scope: ANY, ...over };
  return { window: w, index: 0, open, endsAt: open ? T0 + 1_800_000 : null, nextAt: open ? T0 + 86_400_000 : T0 + 3_600_000 };
}

const grant = (who: string[], tier: TierGrant['tier'], s: Partial<Scope> = {}): TierGrant => ({ who, scope: scope(s), tier });

const ROWS: Row[] = [
  { name: 'nothing in the way: allowed', want: 'ok' },
  { name: 'a policy that does not validate blocks everything, saying why', policyError: 'warden.yaml:9:7: policy.rules[0].allow[0]: expected one of ...', want: 'invalid', says: 'warden.yaml:9:7' },
  { name: 'frozen with a reason and an end', frozen: { reason: 'deploy', until: T0 + 3_600_000 }, want: 'frozen', says: '(deploy) until 2025-01-01T01:00:00.000Z' },
  // tiers
  { name: 'tier held on the scope: allowed', policy: { tiers: [grant(['otto'], 'repair-service')] }, want: 'ok' },
  { name: 'no grant names the agent: observe, blocked', policy: { tiers: [grant(['alice'], 'repair-cluster')] }, want: 'tier', says: 'otto holds observe on cache' },
  { name: 'propose tier: a person approves first', policy: { tiers: [grant(['otto'], 'propose')] }, want: 'approval', says: 'proposed for a person' },
  { name: 'grant on another service does not count', policy: { tiers: [grant(['otto'], 'repair-service', { service: 'web' })] }, want: 'tier' },
  { name: 'grant by label', policy: { tiers: [grant(['otto'], 'repair-service', { labels: { team: 'd*' } })] }, want: 'ok' },
  { name: 'grant by host', policy: { tiers: [grant(['otto'], 'repair-service', { host: 'edge-*' })] }, target: 'm1', want: 'ok' },
  { name: 'grant by group (subject)', policy: { tiers: [grant(['otto'], 'repair-cluster', { group: 'etcd' })] }, target: 'm3', type: 'etcd.move-leader', want: 'ok' },
  { name: 'a group grant does not reach a service outside it', policy: { tiers: [grant(['otto'], 'repair-cluster', { group: 'etcd' })] }, target: 'cache', want: 'tier' },
  { name: 'repair-service is not enough for a cluster action', policy: { tiers: [grant(['otto'], 'repair-service')] }, target: 'm1', type: 'etcd.move-leader', want: 'approval', says: 'needs repair-cluster' },
  { name: 'grants add up: the highest matching tier counts', policy: { tiers: [grant(['otto'], 'propose'), grant(['otto'], 'repair-cluster', { group: 'etcd' })] }, target: 'm1', type: 'etcd.move-leader', want: 'ok' },
  { name: 'human-only: never by the agent alone, whatever its tier', policy: { tiers: [grant(['otto'], 'repair-cluster')] }, target: 'm1', type: 'etcd.replace-member', want: 'approval', says: 'only a person may decide' },
  { name: 'human-only: a person who holds it takes it', policy: { tiers: [grant(['bob'], 'human-only', { group: 'etcd' })] }, requester: { name: 'person:bob', roles: [], person: true }, target: 'm1', type: 'etcd.replace-member', want: 'ok', says: 'person:bob holds human-only on m1 (policy.tiers[0]); etcd.replace-member needs human-only' },
  { name: 'human-only: a person below it proposes', policy: { tiers: [grant(['role:oncall'], 'repair-cluster')] }, requester: { name: 'person:alice', roles: ['oncall'], person: true }, target: 'm1', type: 'etcd.replace-member', want: 'approval', says: "etcd.replace-member needs human-only: proposed for a person's approval" },
  { name: 'a person with observe is refused, told to ask', policy: { tiers: [grant(['otto'], 'repair-service')] }, requester: { name: 'person:olive', roles: [], person: true }, want: 'tier', says: 'person:olive holds observe on cache (no grant in policy.tiers names it here); restart needs repair-service; grant it in policy.tiers, or ask someone who holds it' },
  // limits
  { name: 'per action: restarts everywhere count together', limits: [{ action: 'restart', per: 'action', max: 2, windowMs: 600_000 }], started: [started('web', 1000), started('m1', 2000)], want: 'limit', says: 'restart at most 2 per 10m on all targets (2 used)' },
  { name: 'per action: another type does not count', limits: [{ action: '*', per: 'action', max: 1, windowMs: 600_000 }], started: [started('web', 1000, 'start')], want: 'ok' },
  { name: 'per scope: targets in the scope count together', limits: [{ action: '*', per: 'scope', scope: scope({ host: 'edge-*' }), max: 2, windowMs: 600_000 }], target: 'm3', started: [started('m1', 10), started('m2', 10), started('cache', 10)], want: 'limit', says: 'in scope (service: *, host: edge-*) (2 used)' },
  { name: 'per scope: a target outside is not limited by it', limits: [{ action: '*', per: 'scope', scope: scope({ host: 'edge-*' }), max: 1, windowMs: 600_000 }], target: 'cache', started: [started('m1', 10), started('m2', 10)], want: 'ok' },
  { name: 'global: everything counts', limits: [{ action: '*', per: 'global', max: 3, windowMs: 600_000 }], started: [started('m1', 10), started('web', 10), started('cache', 10, 'start')], want: 'limit', says: 'in all (3 used)' },
  { name: 'global: repairs older than the window do not count', limits: [{ action: '*', per: 'global', max: 1, windowMs: 60_000 }], started: [started('m1', 60_001)], want: 'ok' },
  // cooldown
  { name: 'cooldown after a repair of the target', policy: { cooldownMs: 300_000 }, started: [started('cache', 60_000)], want: 'cooldown', says: 'started at 2024-12-31T23:59:00.000Z; no repair of it before 2025-01-01T00:04:00.000Z (cooldown 5m)' },
  { name: 'cooldown over', policy: { cooldownMs: 300_000 }, started: [started('cache', 300_000)], want: 'ok' },
  { name: 'cooldown is per target', policy: { cooldownMs: 300_000 }, started: [started('web', 1000)], want: 'ok' },
  // concurrency
  { name: 'concurrency bound reached', policy: { concurrency: 2 }, inFlight: 2, want: 'concurrency', says: '2 action(s) executing' },
  { name: 'concurrency bound not reached', policy: { concurrency: 2 }, inFlight: 1, want: 'ok' },
  // windows
  { name: 'a deny window open defers to its end', windows: [window('deny', true)], want: 'window', says: 'until 2025-01-01T00:30:00.000Z' },
  { name: 'a deny window closed: allowed', windows: [window('deny', false)], want: 'ok' },
  { name: 'outside every allow window: deferred to the next', windows: [window('allow', false)], want: 'window', says: 'deferred to 2025-01-01T01:00:00.000Z' },
  { name: 'inside an allow window: allowed', windows: [window('allow', true)], want: 'ok' },
  { name: 'a window on another scope does not apply', windows: [window('deny', true, { scope: scope({ service: 'web' }) })], want: 'ok' },
  // order
  { name: 'a denial by tier comes before a freeze', policy: { tiers: [grant(['alice'], 'human-only')] }, frozen: { reason: 'x', until: null }, want: 'tier' },
];

void describe('gate: tiers and guardrails', () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const config = makeConfig({ services, subjects, rules: [ALL_RULE], limits: row.limits ?? [], policy: { actionTiers: TIERS_OF, ...row.policy } });
      const target = row.target ?? 'cache';
      const g = gate({
        config, type: row.type ?? 'restart', target, host: config.services.find((s) => s.name === target)?.host ?? 'local',
        frozen: row.frozen !== undefined, freeze: row.frozen ?? null, now: { wall: T0, mono: M0, boot: BOOT },
        countStarted: (t, type) => (row.started ?? []).filter((s) => s.target === t && (type === '*' || s.type === type)).length,
        started: row.started ?? [], inFlight: row.inFlight ?? 0, windows: row.windows ?? [], policyError: row.policyError ?? null,
        ...(row.requester ? { requester: row.requester } : {}),
      });
      const got = g.ok ? (g.approval === 'required' ? 'approval' : 'ok') : g.blockedBy;
      assert.equal(got, row.want, JSON.stringify(g, null, 1));
      if (row.says) {
        const text = g.ok ? g.checks.map((c) => c.detail).join(' | ') : g.reason;
        assert.ok(text.includes(row.says), `${text}\n  should say: ${row.says}`);
      }
      // Every check is consulted whatever decides: explain shows them all.
      for (const kind of ['file', 'mode', 'rule', 'tier', 'freeze', 'cooldown', 'concurrency'] as const) assert.ok(g.checks.some((c) => c.kind === kind), kind);
    });
  }
});

void describe('tiers', () => {
  const config = makeConfig({ services, subjects, policy: { actionTiers: TIERS_OF, tiers: [grant(['role:oncall'], 'repair-service'), grant(['bob'], 'human-only', { group: 'etcd' })] } });

  it('scopes match service, host, group and labels', () => {
    const m1 = targetFacts(config, 'm1');
    assert.deepEqual(m1.groups, ['etcd']);
    assert.ok(scopeMatches(scope({ group: 'et*' }), m1));
    assert.ok(!scopeMatches(scope({ labels: { team: '*' } }), m1), 'a label the service lacks does not match');
    assert.ok(scopeMatches(scope({ labels: { team: 'db' } }), targetFacts(config, 'cache')));
  });

  it('a person holds their roles\' grants; person:NAME and NAME are one identity', () => {
    assert.equal(tierOf(config.policy.tiers!, 'person:alice', ['oncall'], targetFacts(config, 'web')).tier, 'repair-service');
    assert.equal(tierOf(config.policy.tiers!, 'person:bob', [], targetFacts(config, 'm2')).tier, 'human-only');
    assert.equal(tierOf(config.policy.tiers!, 'person:bob', [], targetFacts(config, 'web')).tier, 'observe');
  });

  const APPROVERS: [string, string, string[], ActionType, string, boolean][] = [
    ['an on-call person approves a restart', 'person:alice', ['oncall'], 'restart', 'web', true],
    ['an on-call person cannot approve a human-only action', 'person:alice', ['oncall'], 'etcd.replace-member', 'm1', false],
    ['bob holds human-only on etcd: he may', 'person:bob', [], 'etcd.replace-member', 'm1', true],
    ['bob holds nothing on web', 'person:bob', [], 'restart', 'web', false],
  ];
  for (const [name, who, roles, type, target, may] of APPROVERS) {
    it(name, () => {
      const refusal = approverTierRefusal(config, who, roles, type, target);
      assert.equal(refusal === null, may, refusal ?? '');
    });
  }

  it('without grants tiers are not enforced: approvers are not asked for one', () => {
    assert.equal(approverTierRefusal(makeConfig({ services }), 'person:x', [], 'restart', 'web'), null);
  });
});
