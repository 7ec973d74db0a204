import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePolicy, findRule, gate, globMatch, shadowedRules, unmatchedRules, type CountStarted, type GateInput } from './policy.js';
import { BOOT, M0, T0, makeConfig, type ConfigOptions } from '../testing/domain.js';
import type { ActionType, PolicyRule } from './types.js';

const rule = (service: string, allow: ActionType[], over: Partial<PolicyRule> = {}): PolicyRule =>
  ({ match: { service, host: '*' }, allow, approval: 'none', ...over });

/** A gate call with a recording rate-limit counter that reports `used` for every query. */
function gateWith(opts: ConfigOptions & { type?: ActionType; target?: string; frozen?: boolean; used?: number | CountStarted; mode?: GateInput['mode'] }) {
  const calls: [string, string, number][] = [];
  const used = opts.used ?? 0;
  const countStarted: CountStarted = (target, type, since) => {
    calls.push([target, type, since.wall]);
    return typeof used === 'number' ? used : used(target, type, since);
  };
  const result = gate({
    config: makeConfig(opts), type: opts.type ?? 'restart', target: opts.target ?? 'cache', host: 'local',
    frozen: opts.frozen ?? false, now: { wall: T0, mono: M0, boot: BOOT }, countStarted, ...(opts.mode ? { mode: opts.mode } : {}),
  });
  // The checks consulted are explain's (tested in policy.checks.test.ts); the verdict is tested here.
  const { checks, ...verdict } = result;
  return { result: verdict, checks, calls };
}

void describe('globMatch', () => {
  it('* matches any run of characters, including none', () => {
    assert.ok(globMatch('*', 'cache'));
    assert.ok(globMatch('*', ''));
    assert.ok(globMatch('web-*', 'web-1'));
    assert.ok(globMatch('web-*', 'web-'));
    assert.ok(globMatch('*-db', 'orders-db'));
    assert.ok(globMatch('a*b*c', 'aXXbYYc'));
  });

  it('? matches exactly one character', () => {
    assert.ok(globMatch('web-?', 'web-1'));
    assert.ok(!globMatch('web-?', 'web-10'));
    assert.ok(!globMatch('web-?', 'web-'));
  });

  it('is anchored at both ends', () => {
    assert.ok(!globMatch('web', 'web-1'));
    assert.ok(!globMatch('web', 'my-web'));
    assert.ok(!globMatch('web-*', 'api-web-1'));
  });

  it('treats regular-expression characters literally', () => {
    assert.ok(globMatch('a.b', 'a.b'));
    assert.ok(!globMatch('a.b', 'axb'));
    assert.ok(globMatch('svc(1)', 'svc(1)'));
    assert.ok(globMatch('[ab]', '[ab]'));
    assert.ok(!globMatch('[ab]', 'a'));
    assert.ok(globMatch('a+b', 'a+b'));
    assert.ok(!globMatch('a+b', 'aab'));
    assert.ok(globMatch('x|y', 'x|y'));
    assert.ok(!globMatch('x|y', 'x'));
    assert.ok(globMatch('$^\\{}', '$^\\{}'));
  });

  // A regular expression of many .* backtracks exponentially on a near miss: this one ran for
  // minutes in validate's rule check and would have in the policy gate of every pass.
  it('takes time linear in pattern × name, whatever the stars', { timeout: 10_000 }, () => {
    assert.ok(!globMatch('*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(100)));
    assert.ok(globMatch('*a*a*a*a*a*a*a*a*a*a*a*a*b', `${'a'.repeat(100)}b`));
    assert.ok(globMatch('**?*', 'x'));
    assert.ok(!globMatch('**?*', ''));
    assert.ok(globMatch('a*?c', 'abc'));
    assert.ok(!globMatch('a*?c', 'ac'));
  });
});

void describe('findRule', () => {
  const rules = [
    rule('cache', ['restart'], { approval: 'required' }),
    rule('*', ['start', 'restart']),
    { match: { service: '*', host: 'edge-*' }, allow: ['stop'], approval: 'none' } satisfies PolicyRule,
  ];

  it('returns the first rule that matches service, host and action type', () => {
    assert.equal(findRule(rules, 'restart', 'cache', 'local'), rules[0]);
    assert.equal(findRule(rules, 'restart', 'web', 'local'), rules[1]);
    assert.equal(findRule(rules, 'start', 'cache', 'local'), rules[1]);
  });

  it('needs the host to match too, and the action to be allowed', () => {
    assert.equal(findRule(rules, 'stop', 'web', 'local'), null);
    assert.equal(findRule(rules, 'stop', 'web', 'edge-3'), rules[2]);
    assert.equal(findRule(rules, 'run-runbook', 'web', 'edge-3'), null);
  });
});

void describe('gate', () => {
  it('allows an action a rule allows, with that rule\'s approval', () => {
    const { result } = gateWith({ rules: [rule('*', ['restart'], { approval: 'required' })] });
    assert.deepEqual(result, { ok: true, approval: 'required', rule: rule('*', ['restart'], { approval: 'required' }) });
  });

  it('observe mode blocks everything, before the freeze and the limits decide', () => {
    const { result } = gateWith({ mode: 'observe', frozen: true, used: 99 });
    assert.deepEqual(result, { ok: false, blockedBy: 'mode', reason: 'observe mode: Warden only watches' });
  });

  it('the mode can be overridden per call (reconcile --once evaluates as if executing)', () => {
    assert.equal(gateWith({ mode: 'execute', agent: { mode: 'observe' } }).result.ok, true);
    assert.equal(gateWith({ mode: 'observe', agent: { mode: 'execute' } }).result.ok, false);
  });

  it('an action no rule allows is blocked by policy, naming the action and target', () => {
    const { result } = gateWith({ rules: [rule('web', ['restart']), rule('*', ['start'])], target: 'cache' });
    assert.deepEqual(result, { ok: false, blockedBy: 'policy', reason: 'policy allows no restart on cache' });
  });

  it('a limit counts started actions of its type on the target within its window', () => {
    const limits = [{ action: 'restart' as const, per: 'service' as const, max: 3, windowMs: 600_000 }];
    const under = gateWith({ limits, used: 2 });
    assert.equal(under.result.ok, true);
    assert.deepEqual(under.calls, [['cache', 'restart', T0 - 600_000]]);
    const at = gateWith({ limits, used: 3 });
    assert.equal(at.result.ok, false);
    assert.ok(!at.result.ok && at.result.blockedBy === 'limit');
    assert.ok(!at.result.ok && at.result.reason === 'limit reached: restart at most 3 per 10m on cache (3 used)');
    assert.ok(!at.result.ok && at.result.limit === limits[0]);
  });

  it('a limit for one action type does not apply to another', () => {
    const limits = [{ action: 'restart' as const, per: 'service' as const, max: 1, windowMs: 60_000 }];
    const { result, calls } = gateWith({ limits, used: 5, type: 'start' });
    assert.equal(result.ok, true);
    assert.deepEqual(calls, []);
  });

  it('a * limit counts every action type together', () => {
    const limits = [{ action: '*' as const, per: 'service' as const, max: 2, windowMs: 3_600_000 }];
    for (const type of ['start', 'restart', 'run-runbook'] as const) {
      const { result, calls } = gateWith({ limits, used: 2, type });
      assert.deepEqual(calls, [['cache', '*', T0 - 3_600_000]]);
      assert.ok(!result.ok && result.reason === 'limit reached: actions at most 2 per 1h on cache (2 used)', JSON.stringify(result));
    }
  });

  it('every applicable limit is checked; the first one reached blocks', () => {
    const limits = [
      { action: 'restart' as const, per: 'service' as const, max: 5, windowMs: 30_000 },
      { action: '*' as const, per: 'service' as const, max: 2, windowMs: 1500 },
    ];
    const { result, calls } = gateWith({ limits, used: (_t, type) => (type === '*' ? 2 : 1) });
    assert.equal(calls.length, 2);
    assert.ok(!result.ok && result.reason === 'limit reached: actions at most 2 per 1.5s on cache (2 used)', JSON.stringify(result));
    const secs = gateWith({ limits: [{ action: 'restart', per: 'service', max: 1, windowMs: 30_000 }], used: 1 });
    assert.ok(!secs.result.ok && secs.result.reason.includes('per 30s'));
  });

  it('the kill switch blocks an otherwise allowed action', () => {
    const { result } = gateWith({ frozen: true });
    assert.deepEqual(result, { ok: false, blockedBy: 'frozen', reason: 'frozen: the kill switch is on' });
  });

  it('recommend mode is not blocked by the gate (the planner proposes instead of executing)', () => {
    assert.equal(gateWith({ mode: 'recommend' }).result.ok, true);
  });
});

void describe('several matching rules: the most restrictive verdict wins', () => {
  it('"*" allows restart without approval, then web requires it: web needs approval, cache does not', () => {
    const rules = [rule('*', ['start', 'restart']), rule('web', ['restart'], { approval: 'required' })];
    assert.deepEqual(evaluatePolicy(rules, 'restart', 'web', 'local'), { allowed: true, approval: 'required', rule: rules[1], index: 1 });
    assert.deepEqual(evaluatePolicy(rules, 'restart', 'cache', 'local'), { allowed: true, approval: 'none', rule: rules[0], index: 0 });
    // A rule's approval applies to the actions it allows: start on web stays unattended.
    assert.deepEqual(evaluatePolicy(rules, 'start', 'web', 'local'), { allowed: true, approval: 'none', rule: rules[0], index: 0 });
    assert.deepEqual(gateWith({ rules, target: 'web' }).result, { ok: true, approval: 'required', rule: rules[1] });
  });

  it('the order of the rules does not matter', () => {
    const rules = [rule('web', ['restart'], { approval: 'required' }), rule('*', ['start', 'restart'])];
    const v = evaluatePolicy(rules, 'restart', 'web', 'local');
    assert.ok(v.allowed && v.approval === 'required' && v.index === 0);
    const denyFirst = [rule('web', [], { deny: ['restart'] }), rule('*', ['restart'])];
    const denyLast = [rule('*', ['restart']), rule('web', [], { deny: ['restart'] })];
    assert.equal(evaluatePolicy(denyFirst, 'restart', 'web', 'local').allowed, false);
    assert.equal(evaluatePolicy(denyLast, 'restart', 'web', 'local').allowed, false);
  });

  it('allowed by one rule and denied by another is denied, and the refusal names the rule', () => {
    const rules = [rule('*', ['start', 'restart']), rule('web-*', [], { deny: ['restart'], match: { service: 'web-*', host: 'edge-*' } })];
    assert.deepEqual(evaluatePolicy(rules, 'restart', 'web-1', 'edge-2'), {
      allowed: false, reason: 'policy.rules[1] (service: web-*, host: edge-*) denies restart on web-1', rule: rules[1], index: 1,
    });
    // The deny names only what it lists, and only where its globs match.
    assert.equal(evaluatePolicy(rules, 'start', 'web-1', 'edge-2').allowed, true);
    assert.equal(evaluatePolicy(rules, 'restart', 'web-1', 'local').allowed, true);
    const { result } = gateWith({ rules: [rule('*', ['restart']), rule('cache', [], { deny: ['restart'] })] });
    assert.deepEqual(result, { ok: false, blockedBy: 'policy', reason: 'policy.rules[1] (service: cache) denies restart on cache', rule: 'policy.rules[1] (service: cache)' });
  });

  it('a denial wins over an approval a person could give', () => {
    const rules = [rule('*', ['restart'], { approval: 'required' }), rule('cache', [], { deny: ['restart'] })];
    assert.equal(gateWith({ rules }).result.ok, false);
    assert.equal(findRule(rules, 'restart', 'cache', 'local'), null);
  });
});

void describe('unmatchedRules', () => {
  it('names the rules whose globs match no service on its host', () => {
    const rules = [rule('*', ['restart']), rule('wbe', ['restart']), { match: { service: 'web', host: 'edge-*' }, allow: ['stop'], approval: 'none' } satisfies PolicyRule, rule('c?che', ['start'])];
    assert.deepEqual(unmatchedRules(makeConfig({ rules })).map((u) => u.index), [1, 2]);
  });
});

void describe('shadowedRules', () => {
  // Services cache and web (makeConfig's default), both on host local.
  const shadowed = (rules: PolicyRule[]) => shadowedRules(makeConfig({ rules })).map((u) => [u.index, u.by, u.services]);

  it('a rule that changes no verdict is shadowed by the earlier rule that decides the same', () => {
    assert.deepEqual(shadowed([rule('*', ['start', 'restart']), rule('web', ['restart'])]), [[1, 0, ['web']]]);
    // Of two equal rules the later one is reported: the earlier does the work.
    assert.deepEqual(shadowed([rule('c*', ['restart']), rule('c*', ['restart'])]), [[1, 0, ['cache']]]);
  });

  it('an allow every matching service denies anyway is shadowed by the denial', () => {
    assert.deepEqual(shadowed([rule('*', [], { deny: ['restart'] }), rule('web', ['restart'])]), [[1, 0, ['web']]]);
  });

  it('a rule that adds an action, a denial or an approval has an effect', () => {
    assert.deepEqual(shadowed([rule('*', ['start', 'restart']), rule('web', ['restart'], { approval: 'required' })]), []);
    assert.deepEqual(shadowed([rule('*', ['start']), rule('web', ['restart'])]), []);
    assert.deepEqual(shadowed([rule('*', ['start', 'restart']), rule('web', [], { deny: ['restart'] })]), []);
    // Covered only by several rules together: shadowed, with no single rule to name.
    assert.deepEqual(shadowed([rule('cache', ['restart']), rule('web', ['restart']), rule('*', ['restart'])]), [[2, null, ['cache', 'web']]]);
  });

  it('rules that match no service are left to unmatchedRules', () => {
    assert.deepEqual(shadowed([rule('*', ['restart']), rule('wbe', ['restart'])]), []);
  });
});
