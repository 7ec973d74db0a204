// The etcd subject's judgement over what its members said (recorded facts, no cluster needed here;
// test/e2e/etcd-lab.test.ts runs a real one): which invariant breaks, whom it blames, and the repair
// it chooses — never a restart of a running member, which could cost the quorum.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ALLOW_ALL, Driver, dead, makeConfig, running, service, stopped } from '../../testing/domain.js';
import type { SubjectSpec, World } from '../../domain/types.js';
import type { EtcdFacts, MemberView } from './index.js';

const SPEC: SubjectSpec = {
  name: 'etcd', type: 'etcd', host: 'local', members: ['e1', 'e2', 'e3'], intervalMs: 1000,
  params: { endpoints: { e1: 'http://10.0.0.11:2379', e2: 'http://10.0.0.12:2379', e3: 'http://10.0.0.13:2379' }, maxLag: 1000, joinMs: 5000 },
};
const ok = (id: string, leader: string | null, index = 100): MemberView => ({ ok: true, id, leader, term: 2, index, errors: [] });
const silent: MemberView = { ok: false, error: 'connect ECONNREFUSED' };

function driver(): Driver {
  return new Driver(makeConfig({ services: [service('e1'), service('e2'), service('e3')], subjects: [SPEC] }));
}

/** The world with these member views and alarms (and more facts) as the subject's last reading. */
function world(d: Driver, members: Record<string, MemberView>, views: Parameters<Driver['world']>[0] = {}, alarms: EtcdFacts['alarms'] = [], more: Partial<EtcdFacts> = {}): World {
  return { ...d.world(views), subjects: { etcd: { at: d.now, facts: { members, alarms, ...more } satisfies EtcdFacts } } };
}

const steps = (d: Driver): string[] => [...d.actions.values()].map((a) => `${a.type} ${a.target}${Object.keys(a.params).length > 0 ? ` ${JSON.stringify(a.params)}` : ''}`);

void describe('subject: etcd', () => {
  it('a whole cluster: every invariant holds', () => {
    const d = driver();
    const out = d.pass(world(d, { e1: ok('a', 'a'), e2: ok('b', 'a'), e3: ok('c', 'a') }));
    assert.equal(out.detection.subjects.etcd?.health, 'healthy');
    assert.equal(d.tickets.size, 0);
  });

  it('the leader killed: one ticket, leader_lost while the others have none, the dead member restarted', () => {
    const d = driver();
    d.pass(world(d, { e1: silent, e2: ok('b', null), e3: ok('c', null) }, { e1: dead() }));
    const t = d.onlyTicket();
    assert.equal(t.service, 'etcd');
    assert.equal(t.cause, 'leader_lost');
    assert.deepEqual([...d.actions.values()].map((a) => `${a.type} ${a.target}`), ['restart e1'], 'only the dead member');
  });

  it('the leader killed while a follower answers late (its check passing): leader_lost, not quorum_lost', () => {
    const d = driver();
    const w = world(d, { e1: silent, e2: { ok: false, error: 'no answer within 1000 ms' }, e3: ok('c', 'a') }, { e1: dead() });
    (w.subjects!.etcd as { facts: EtcdFacts }).facts.ids = { a: 'e1', b: 'e2', c: 'e3' };
    d.pass(w);
    assert.equal(d.onlyTicket().cause, 'leader_lost');
  });

  it('the leader killed before the member list was read: leader_lost all the same', () => {
    // The last reading, from before the kill: every member answered, e1 (id a) as the leader.
    const d = driver();
    d.pass(world(d, { e1: ok('a', 'a'), e2: ok('b', 'a'), e3: ok('c', 'a') }, { e1: dead() }));
    assert.equal(d.onlyTicket().cause, 'leader_lost');
    assert.match(d.onlyTicket().diagnosis?.evidence[0]?.fact ?? '', /^the leader e1 \(a\) is down$/);
    // And once it no longer answers, still without the list: one of the members down.
    const d2 = driver();
    d2.pass(world(d2, { e1: silent, e2: ok('b', 'a'), e3: ok('c', 'a') }, { e1: dead() }));
    assert.equal(d2.onlyTicket().cause, 'leader_lost');
    assert.match(d2.onlyTicket().diagnosis?.evidence[0]?.fact ?? '', /^the leader \(a\) does not answer: it is one of e1$/);
  });

  it('the leader killed before the others notice: leader_lost at once, naming it', () => {
    const d = driver();
    const ids = { a: 'e1', b: 'e2', c: 'e3' };
    const w = world(d, { e1: silent, e2: ok('b', 'a'), e3: ok('c', 'a') }, { e1: dead() });
    (w.subjects!.etcd as { facts: EtcdFacts }).facts.ids = ids;
    d.pass(w);
    const t = d.onlyTicket();
    assert.equal(t.cause, 'leader_lost');
    assert.match(t.diagnosis?.evidence[0]?.fact ?? '', /^the leader e1 \(a\) is down$/);
    assert.deepEqual([...d.actions.values()].map((a) => `${a.type} ${a.target}`), ['restart e1']);
  });

  it('two members killed: quorum_lost, the missing ones started one at a time, the running one untouched', () => {
    const d = driver();
    d.pass(world(d, { e1: silent, e2: silent, e3: ok('c', null) }, { e1: dead(), e2: dead() }));
    const t = d.onlyTicket();
    assert.equal(t.cause, 'quorum_lost');
    assert.match(t.diagnosis?.evidence.find((e) => e.source === 'invariant:quorum')?.fact ?? '', /^1 of 3 members answer, 2 needed for quorum \(e1, e2 silent\)$/);
    assert.deepEqual([...d.actions.values()].map((a) => a.target), ['e1']);
  });

  it('a member that runs, fails its check and answers no reading: network_partition, waited for, never restarted', () => {
    const d = driver();
    // Its process runs; the others' raft links to it are down too.
    d.pass(world(d, { e1: silent, e2: ok('b', 'b'), e3: ok('c', 'b') }, { e1: { process: running(), checks: 'failing' } }, [], { links: { e2: { e1: false, e3: true }, e3: { e1: false, e2: true } } }));
    const t = d.onlyTicket();
    assert.equal(t.cause, 'network_partition');
    assert.equal(d.actions.size, 0, 'a running member is never restarted by the subject');
    assert.equal(t.status, 'open');
    assert.match(t.reason ?? '', /^e1 runs but cannot be reached: waiting for the network to return/);
    assert.match(t.diagnosis?.evidence.find((e) => e.source === 'invariant:partition')?.fact ?? '', /^e1 runs \(pid 4242\) but answers neither Warden's reading nor its check; e2, e3 lost their raft link to it too$/);
    assert.ok(t.diagnosis?.alternatives.some((a) => a.cause === 'process_exited'), 'process_exited considered and rejected');
  });

  it('the others still reach a member Warden cannot: a partition between Warden and it, said so', () => {
    const d = driver();
    d.pass(world(d, { e1: silent, e2: ok('b', 'b'), e3: ok('c', 'b') }, { e1: { process: running(), checks: 'failing' } }, [], { links: { e2: { e1: true }, e3: { e1: true } } }));
    assert.equal(d.onlyTicket().cause, 'network_partition');
    assert.match(d.onlyTicket().diagnosis?.evidence[0]?.fact ?? '', /e2, e3 still have a raft link to it: so far only Warden is cut off from it$/);
  });

  it('a check and the reading disagree (either saw it go first): the repair waits for the next of each, does not guess', () => {
    for (const [members, e1] of [
      [{ e1: ok('a', 'b'), e2: ok('b', 'b'), e3: ok('c', 'b') }, { process: running(), checks: 'failing' as const }],
      [{ e1: silent, e2: ok('b', 'b'), e3: ok('c', 'b') }, { process: running() }],
    ] as const) {
      const d = driver();
      d.pass(world(d, members, { e1 }));
      const t = d.onlyTicket();
      assert.equal(d.actions.size, 0);
      assert.equal(t.status, 'open');
      assert.match(t.reason ?? '', /^Warden's checks and the last reading disagree on e1: waiting for the next of each$/);
    }
  });

  it('a member stopped (SIGSTOP) is no partition: it is restarted, which takes no voter away', () => {
    const d = driver();
    d.pass(world(d, { e1: silent, e2: ok('b', 'b'), e3: ok('c', 'b') }, { e1: { process: stopped(), checks: 'failing' } }));
    const t = d.onlyTicket();
    assert.notEqual(t.cause, 'network_partition');
    assert.deepEqual(steps(d), ['restart e1']);
  });

  it('a member that runs, does not answer, and is neither stopped nor seen cut off yet: waited for, not escalated', () => {
    const d = driver();
    d.pass(world(d, { e1: silent, e2: ok('b', 'b'), e3: ok('c', 'b') }, { e1: { process: running({ procState: 'D' }), checks: 'failing' } }));
    const t = d.onlyTicket();
    assert.equal(d.actions.size, 0);
    assert.equal(t.status, 'open');
    assert.match(t.reason ?? '', /^e1 runs but does not answer: waiting for the next reading and check to tell a partition from a hang/);
  });

  it('two members killed after the last reading: quorum_lost at once, counted from what Warden saw', () => {
    const d = driver();
    d.pass(world(d, { e1: ok('a', 'a'), e2: ok('b', 'a'), e3: ok('c', 'a') }, { e1: dead(), e2: dead() }));
    const t = d.onlyTicket();
    assert.equal(t.cause, 'quorum_lost');
    assert.match(t.diagnosis?.evidence[0]?.fact ?? '', /^1 of 3 members answer, 2 needed for quorum \(e1, e2 silent\)$/);
    assert.deepEqual(steps(d), ['restart e1']);
  });

  it('NOSPACE: resource_exhausted, named with the member that raised it', () => {
    const d = driver();
    d.pass(world(d, { e1: ok('a', 'a'), e2: ok('b', 'a'), e3: ok('c', 'a') }, {}, [{ memberId: 'b', alarm: 'NOSPACE' }]));
    const t = d.onlyTicket();
    assert.equal(t.cause, 'resource_exhausted');
    assert.match(t.diagnosis?.evidence[0]?.fact ?? '', /^NOSPACE alarm raised by member b/);
  });

  it('one ticket while open whatever breaks meanwhile; a different invariant later is a new problem, not a reopening', () => {
    const d = driver();
    const whole = { e1: ok('a', 'a'), e2: ok('b', 'a'), e3: ok('c', 'a') };
    d.pass(world(d, { e1: silent, e2: ok('b', null), e3: ok('c', null) }, { e1: dead() }));
    const first = d.onlyTicket();
    assert.equal(first.fingerprint, 'subject:etcd/one-leader');
    // While it is open, the quorum going too is the same ticket.
    d.advance(100).pass(world(d, { e1: silent, e2: silent, e3: ok('c', null) }, { e1: dead(), e2: dead() }));
    assert.equal(d.tickets.size, 1);
    d.executeAll();
    for (let i = 0; i < 10 && d.ticket(first.id).status !== 'resolved'; i++) d.advance(1000).pass(world(d, whole));
    assert.equal(d.ticket(first.id).status, 'resolved');
    // NOSPACE a minute later: its own ticket, occurrence 1 — not the leader's problem coming back.
    d.advance(60_000).pass(world(d, whole, {}, [{ memberId: 'b', alarm: 'NOSPACE' }]));
    const open = [...d.tickets.values()].filter((t) => t.status !== 'resolved');
    assert.deepEqual(open.map((t) => [t.fingerprint, t.occurrences, t.cause]), [['subject:etcd/no-nospace', 1, 'resource_exhausted']]);
  });

  it('a member far behind the leader is named with its lag', () => {
    const d = driver();
    const out = d.pass(world(d, { e1: ok('a', 'a', 5000), e2: ok('b', 'a', 5000), e3: ok('c', 'a', 100) }));
    assert.match(out.detection.subjects.etcd?.reason ?? '', /^lag: raft index behind the leader by more than 1000: e3 4900$/);
  });

  void describe('NOSPACE, one step at a time', () => {
    const QUOTA = 4_000_000;
    const sized = (id: string, dbSize: number, revision = 40): MemberView => ({ ok: true, id, leader: 'a', term: 2, index: 100, errors: [], dbSize, dbSizeInUse: dbSize, revision });
    const space = (compactRevision: number): EtcdFacts['space'] => ({ e1: { quotaBytes: QUOTA, compactRevision }, e2: { quotaBytes: QUOTA, compactRevision }, e3: { quotaBytes: QUOTA, compactRevision } });
    const nospace: EtcdFacts['alarms'] = [{ memberId: 'a', alarm: 'NOSPACE' }];
    const next = (members: Record<string, MemberView>, more: Partial<EtcdFacts>): string[] => {
      const d = driver();
      d.pass(world(d, members, {}, nospace, more));
      assert.equal(d.onlyTicket().cause, 'resource_exhausted');
      // What the rule recommends (this config's policy allows only start and restart).
      return (d.onlyTicket().diagnosis?.recommended ?? []).map((r) => `${r.type} ${r.target} ${JSON.stringify(r.params)}`);
    };

    it('sizes not read yet: wait for them', () => {
      const d = driver();
      d.pass(world(d, { e1: ok('a', 'a'), e2: ok('b', 'a'), e3: ok('c', 'a') }, {}, nospace));
      assert.equal(d.actions.size, 0);
      assert.match(d.onlyTicket().reason ?? '', /^NOSPACE: reading the members' quotas/);
    });

    it('history not compacted: compact and defragment the first member', () => {
      assert.deepEqual(next({ e1: sized('a', 4_100_000), e2: sized('b', 4_100_000), e3: sized('c', 4_100_000) }, { space: space(-1) }), ['etcd.defragment e1 {"compact":"true"}']);
    });

    it('compacted, a member still full: defragment it', () => {
      assert.deepEqual(next({ e1: sized('a', 300_000), e2: sized('b', 4_700_000), e3: sized('c', 4_700_000) }, { space: space(40) }), ['etcd.defragment e2 {"compact":"false"}']);
    });

    it('every member compact: disarm', () => {
      assert.deepEqual(next({ e1: sized('a', 300_000), e2: sized('b', 290_000), e3: sized('c', 310_000) }, { space: space(40) }), ['etcd.disarm e1 {"alarm":"NOSPACE"}']);
    });

    it('a member silent: no disarm before it answers', () => {
      const d = driver();
      d.pass(world(d, { e1: sized('a', 300_000), e2: sized('b', 290_000), e3: silent }, { e3: { process: running(), checks: 'failing' } }, nospace, { space: space(40) }));
      assert.equal(d.actions.size, 0);
    });
  });

  it('a partition mending keeps its cause: the election as the member rejoins is its aftermath, not a new root', () => {
    const d = driver();
    d.pass(world(d, { e1: silent, e2: ok('b', 'b'), e3: ok('c', 'b') }, { e1: { process: running(), checks: 'failing' } }));
    const t = d.onlyTicket();
    assert.equal(t.cause, 'network_partition');
    // The link is back: e1 answers, and its higher term sends the cluster into an election.
    d.advance(100).pass(world(d, { e1: ok('a', null), e2: ok('b', 'b'), e3: ok('c', 'b') }, { e1: { process: running(), checks: 'failing' } }));
    assert.equal(d.ticket(t.id).cause, 'network_partition');
    assert.equal(d.actions.size, 0);
  });

  it('a partition healed: the ticket is verified like a repair (stable for verify.stable), then resolved', () => {
    const d = driver();
    const cut = { e1: silent, e2: ok('b', 'b'), e3: ok('c', 'b') };
    d.pass(world(d, cut, { e1: { process: running(), checks: 'failing' } }));
    const t = d.onlyTicket();
    assert.equal(t.cause, 'network_partition');
    const whole = { e1: ok('a', 'b'), e2: ok('b', 'b'), e3: ok('c', 'b') };
    d.advance(100).pass(world(d, whole));
    assert.equal(d.ticket(t.id).status, 'verifying', 'not resolved on the first whole reading');
    d.advance(100).pass(world(d, whole));
    assert.equal(d.ticket(t.id).status, 'verifying', 'healthy since now, not yet for verify.stable');
    d.advance(600).pass(world(d, whole));
    assert.equal(d.ticket(t.id).status, 'resolved');
    assert.match(d.ticket(t.id).reason ?? '', /^recovered without action; healthy for \d+ ms/);
    assert.equal(d.actions.size, 0);
  });

  it('a step held is judged on a reading taken after it ended, not on one from before', () => {
    const d = new Driver(makeConfig({ services: [service('e1'), service('e2'), service('e3')], subjects: [SPEC], rules: [{ ...ALLOW_ALL, allow: [...ALLOW_ALL.allow, 'etcd.defragment', 'etcd.disarm'] }] }));
    const QUOTA = 4_000_000;
    const sized = (id: string, dbSize: number): MemberView => ({ ok: true, id, leader: 'a', term: 2, index: 100, errors: [], dbSize, dbSizeInUse: dbSize, revision: 40 });
    const space = (c: number): EtcdFacts['space'] => ({ e1: { quotaBytes: QUOTA, compactRevision: c }, e2: { quotaBytes: QUOTA, compactRevision: c }, e3: { quotaBytes: QUOTA, compactRevision: c } });
    const nospace: EtcdFacts['alarms'] = [{ memberId: 'a', alarm: 'NOSPACE' }];
    const full = world(d, { e1: sized('a', 4_100_000), e2: sized('b', 4_100_000), e3: sized('c', 4_100_000) }, {}, nospace, { space: space(-1) });
    d.executeAll(d.pass(full));
    assert.deepEqual(steps(d), ['etcd.defragment e1 {"compact":"true"}']);
    // The reading from before the step still says "not compacted": no second defragment of e1.
    for (let i = 0; i < 3; i++) d.advance(200).pass(full);
    assert.deepEqual(steps(d), ['etcd.defragment e1 {"compact":"true"}']);
    // A reading since: e1 is small, the others full.
    d.advance(200).pass(world(d, { e1: sized('a', 300_000), e2: sized('b', 4_700_000), e3: sized('c', 4_700_000) }, {}, nospace, { space: space(40) }));
    assert.deepEqual(steps(d), ['etcd.defragment e1 {"compact":"true"}', 'etcd.defragment e2 {"compact":"false"}']);
  });

  it('two members killed: after the first is back the next step starts the second, and the cause stays quorum_lost', () => {
    const d = driver();
    d.executeAll(d.pass(world(d, { e1: silent, e2: silent, e3: ok('c', 'c') }, { e1: dead(), e2: dead() })));
    const t = d.onlyTicket();
    assert.equal(t.cause, 'quorum_lost');
    const e1 = running({ startedAt: d.now, startedMono: d.mono });
    for (let i = 0; i < 10 && steps(d).length < 2; i++) d.advance(200).pass(world(d, { e1: ok('a', 'c'), e2: silent, e3: ok('c', 'c') }, { e1, e2: dead() }));
    assert.deepEqual(steps(d), ['restart e1', 'restart e2'], 'one at a time, the running member untouched');
    assert.equal(d.ticket(t.id).cause, 'quorum_lost', 'the same problem: what broke first');
    assert.match(d.ticket(t.id).diagnosis?.evidence[0]?.fact ?? '', /^e2 not running$/, 'the evidence is the new one');
  });
});

void describe('subject: etcd observe', () => {
  // A local HTTP server stands in for etcd's JSON gateway (the real cluster runs in the e2e tests):
  // status answers, as it does during an election, while the member list and alarms, which need a
  // leader, fail.
  it('a member that answers its status counts as answering, whatever raft-bound reads do', async (t) => {
    const { createServer } = await import('node:http');
    const srv = createServer((req, res) => {
      if (req.url === '/v3/maintenance/status') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ header: { member_id: '10', raft_term: '3' }, version: '3.4.23', leader: '0', raftIndex: '40', raftTerm: '3' }));
        return;
      }
      res.statusCode = 503;
      res.end(JSON.stringify({ error: 'etcdserver: request timed out', code: 14 }));
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    t.after(() => srv.close());
    const addr = srv.address();
    const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    const { default: etcd } = await import('./index.js');
    const spec: SubjectSpec = { ...SPEC, members: ['e1'], params: { ...SPEC.params, endpoints: { e1: url } } };
    const facts = await etcd.observe!(spec, { signal: new AbortController().signal, timeoutMs: 2000 }) as EtcdFacts;
    assert.equal(facts.members.e1?.ok, true, JSON.stringify(facts.members.e1));
  });
});
