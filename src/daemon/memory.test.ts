import assert from 'node:assert/strict';
import { test } from 'node:test';
import { T0 } from '../testing/domain.js';
import type { DecideOutput } from '../domain/decide.js';
import type { PassResult } from '../loop/reconciler.js';
import { apiStatus, diagnosticsBundle } from '../runtime/diagnostics.js';
import { action, makeFixture, ticket } from '../runtime/testing.js';
import { LastKnown } from './memory.js';

test('status and debug read from memory exactly as from the store they were loaded from', (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  fx.store.setFlag('frozen', JSON.stringify({ by: 'person:ann' }));
  fx.store.setFlag('paused:cache', JSON.stringify({ by: 'person:ann', reason: 'upgrade', at: T0, until: null }));
  fx.store.putTicket(ticket({ id: 'T2', status: 'escalated', openedAt: T0 + 3000, resolvedAt: null }));
  fx.store.putTicket(ticket({ id: 'T10', status: 'escalated', openedAt: T0 + 3000, resolvedAt: null }));
  const memory = new LastKnown({ states: () => fx.store.listServiceStates(), process: () => null });
  memory.load(fx.store);

  const live = { pid: 1, lastPassAt: T0 + 5000, summary: 'degraded' as const, failing: null };
  const now = T0 + 6000;
  assert.deepEqual(apiStatus({ config: fx.config, store: memory, now, live }), apiStatus({ config: fx.config, store: fx.store, now, live }));
  const spec = fx.config.services.find((s) => s.name === 'web')!;
  const bundle = (store: typeof memory | typeof fx.store): unknown => diagnosticsBundle({ config: fx.config, spec, store, process: null, checks: null, logTail: [], health: null, now });
  assert.deepEqual(bundle(memory), bundle(fx.store));
  assert.deepEqual(memory.listTickets({ openOnly: true }).map((x) => x.id), ['T10', 'T2'], 'newest first, T10 after T9 order');
  assert.deepEqual(memory.listActions({ ticketId: null }).map((a) => a.id), ['A3', 'A1']);
});

test('a committed pass updates what it changed; flags are read again after a command or a pause change', (t) => {
  const fx = makeFixture();
  t.after(() => fx.cleanup());
  const memory = new LastKnown({ states: () => [], process: (name) => (name === 'web' ? { pid: 4242, startedAt: T0 } : null) });
  memory.load(fx.store);
  const pass = (over: Partial<PassResult>, out: Partial<DecideOutput> = {}): PassResult =>
    ({ world: { at: T0, mono: 0, services: {} }, now: T0, open: [], pending: [], commands: [], busy: false, out: { tickets: [], actions: [], ...out } as unknown as DecideOutput, ...over });

  fx.store.setFlag('frozen', 'x');
  memory.committed(pass({}, { tickets: [ticket({ id: 'T2', status: 'open', resolvedAt: null })], actions: [action({ id: 'A4', state: 'validated' })] }), fx.store);
  assert.equal(memory.getFlag('frozen'), null, 'no command applied: the flags were not read');
  assert.deepEqual(memory.listTickets({ openOnly: true }).map((x) => x.id), ['T2']);
  assert.equal(memory.listActions({ states: ['validated'] })[0]?.id, 'A4');

  memory.committed(pass({ commands: [{ id: 1, cmd: { kind: 'freeze', by: 'person:ann', reason: 'x' }, result: { ok: true, message: 'frozen' } }] }), fx.store);
  assert.equal(memory.getFlag('frozen'), 'x');
  fx.store.setFlag('paused:web', 'p');
  memory.committed(pass({ paused: new Set(['web']) }), fx.store);
  assert.deepEqual([...memory.flagsWithPrefix('paused:')], [['web', 'p']]);
  memory.action(action({ id: 'A4', state: 'completed' }));
  assert.equal(memory.listActions({ states: ['validated'] }).length, 0);
  assert.deepEqual(memory.getProcess('web'), { service: 'web', pid: 4242, procStart: 0, startedAt: T0, argv: [] });
  assert.equal(memory.getProcess('cache'), null);
});
