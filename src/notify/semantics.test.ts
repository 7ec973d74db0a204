// Which audit records become notifications, keyed so a provider pairs an alarm with its end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Action, Ticket } from '../domain/types.js';
import { linksOf } from './fields.js';
import { draftsOfRecord } from './semantics.js';

const lookups = { agent: 'otto', ticket: () => null, action: () => null };

test('a peer that cannot be reached is a critical alarm of its own, closed by its recovery', () => {
  const down = draftsOfRecord({ kind: 'peer.unreachable', subject: null, data: { peer: 'east', url: 'http://e:9/healthz' } }, 'cannot reach peer east', lookups);
  const up = draftsOfRecord({ kind: 'peer.recovered', subject: null, data: { peer: 'east', url: 'http://e:9/healthz' } }, 'reaches peer east again', lookups);
  const west = draftsOfRecord({ kind: 'peer.unreachable', subject: null, data: { peer: 'west' } }, 'cannot reach peer west', lookups);
  assert.deepEqual(down.map((d) => [d.kind, d.key, d.severity]), [['peer.unreachable', 'agent:otto:peer:east', 'critical']]);
  assert.deepEqual(up.map((d) => [d.kind, d.key, d.severity]), [['peer.recovered', 'agent:otto:peer:east', 'info']]);
  assert.equal(west[0]?.key, 'agent:otto:peer:west', 'two peers are two problems');
});

test('an approval request carries each approver\'s approve/reject links; with one approver also as data.links', () => {
  const ticket = { id: 'T4', fingerprint: 'local/web', service: 'web', actionIds: ['A7'], openedAt: 0, status: 'awaiting_approval', occurrences: 1, cause: null } as unknown as Ticket;
  const waiting = { id: 'A7', state: 'awaiting_approval', type: 'restart', target: 'web' } as unknown as Action;
  const linksFor = (a: Action): { by: string; approve: string; reject: string }[] => (a.id === 'A7'
    ? [{ by: 'person:alice', approve: 'https://w/links/A7/a1', reject: 'https://w/links/A7/r1' }, { by: 'person:bob', approve: 'https://w/links/A7/a2', reject: 'https://w/links/A7/r2' }]
    : []);
  const l = { agent: 'otto', ticket: () => ticket, action: (id: string) => (id === 'A7' ? waiting : null), links: linksFor };
  const [d] = draftsOfRecord({ kind: 'ticket.status', subject: 'T4', data: { from: 'diagnosing', to: 'awaiting_approval' } }, 'T4 awaits approval', l);
  assert.equal(d?.kind, 'ticket.awaiting_approval');
  assert.equal(d?.data.action, 'A7');
  assert.deepEqual(d?.data.approvals, linksFor(waiting));
  assert.equal(d?.data.links, undefined, 'two approvers: no single pair');
  const e = { ...d!, agent: 'otto', at: '2026-01-01T00:00:00.000Z' };
  assert.deepEqual(linksOf(e, null).map((x) => x.label), ['Approve as alice', 'Reject as alice', 'Approve as bob', 'Reject as bob']);

  const one = draftsOfRecord({ kind: 'ticket.status', subject: 'T4', data: { to: 'awaiting_approval' } }, 's', { ...l, links: (a: Action) => linksFor(a).slice(0, 1) });
  assert.deepEqual(one[0]?.data.links, { approve: 'https://w/links/A7/a1', reject: 'https://w/links/A7/r1' });
});
