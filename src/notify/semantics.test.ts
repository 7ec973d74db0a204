// Which audit records become notifications, keyed so a provider pairs an alarm with its end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
