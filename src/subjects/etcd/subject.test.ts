// The etcd subject's judgement over what its members said (recorded facts, no cluster needed here;
// test/e2e/etcd-lab.test.ts runs a real one): which invariant breaks, whom it blames, and the repair
// it chooses — never a restart of a running member, which could cost the quorum.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Driver, dead, makeConfig, running, service } from '../../testing/domain.js';
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

/** The world with these member views and alarms as the subject's last reading. */
function world(d: Driver, members: Record<string, MemberView>, views: Parameters<Driver['world']>[0] = {}, alarms: EtcdFacts['alarms'] = []): World {
  return { ...d.world(views), subjects: { etcd: { at: d.now, facts: { members, alarms } satisfies EtcdFacts } } };
}

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

  it('a member that runs but does not answer (partitioned): network trouble, no restart, escalated with why', () => {
    const d = driver();
    d.pass(world(d, { e1: silent, e2: ok('b', 'b'), e3: ok('c', 'b') }, { e1: running() }));
    const t = d.onlyTicket();
    assert.equal(d.actions.size, 0, 'a running member is never restarted by the subject');
    assert.equal(t.status, 'escalated');
    assert.match(t.reason ?? '', /^e1 run but do not answer: a network partition or a hang/);
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
