// Who asks for an action, as the tiers judge it: one answer for people's commands, the gate and
// `warden policy check --as`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeConfig } from '../testing/domain.js';
import { requesterOf } from './identity.js';

test('requesterOf: people by either spelling with their roles; the agent, a stranger and a token', () => {
  const config = makeConfig({ people: [{ name: 'alice', unix: 'al', roles: ['oncall'] }] });
  const rows: [string, string, { roles: string[]; person: boolean }][] = [
    ['person:alice', 'a person by identity', { roles: ['oncall'], person: true }],
    ['alice', 'a person by name (policy check --as alice)', { roles: ['oncall'], person: true }],
    ['person:root', 'a Unix user not in people: a person without roles', { roles: [], person: true }],
    ['otto', 'the agent', { roles: [], person: false }],
    ['token:bot', 'a token acting for no person', { roles: [], person: false }],
  ];
  for (const [by, name, want] of rows) {
    const r = requesterOf(config, by);
    assert.deepEqual({ roles: [...r.roles], person: r.person }, want, name);
    assert.equal(r.name, by, name);
  }
});
