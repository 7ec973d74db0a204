// People, approvers and quorums in the config: checked where they are written, so a typo in an
// approver's name cannot leave an action that nobody may approve.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './load.js';
import { configErrors } from '../testing/config.js';

const HEAD = 'version: 1\nagent: { name: otto }\nservices:\n  - { name: web, start: [node] }\n';

test('approvers name people or roles that exist, only where approval is required, with a quorum they can reach', () => {
  assert.deepEqual(configErrors(HEAD + [
    'people:',
    '  - { name: alice, roles: [oncall] }',
    '  - { name: bob }',
    '  - { name: alice }',
    'policy:',
    '  rules:',
    '    - { allow: [restart], approval: required, approvers: [alice, carol, role:dba], quorum: 2 }',
    '    - { allow: [start], approvers: [bob], quorum: 1 }',
    '    - { allow: [stop], approval: required, approvers: [alice, bob], quorum: 3 }',
    '',
  ].join('\n')), [
    '8:13: people[2].name: duplicate person "alice"; the first is at line 6',
    '11:66: policy.rules[0].approvers[1]: unknown person "carol"; people are: alice, bob',
    '11:73: policy.rules[0].approvers[2]: no person has role "dba"; roles are: oncall',
    '12:25: policy.rules[1].approvers: approvers applies only to a rule with approval: required',
    '12:43: policy.rules[1].quorum: quorum applies only to a rule with approval: required',
    '13:77: policy.rules[2].quorum: quorum 3 cannot be reached by 2 approver(s)',
  ]);
});

test('people compile with their Unix user (their name by default), and rules with their approval terms', () => {
  const cfg = parseConfig(HEAD + [
    'people:',
    '  - { name: alice, unix: asmith, roles: [oncall, admin] }',
    'policy:',
    '  approvalTtl: 20m',
    '  rules:',
    '    - { allow: [restart], approval: required, approvers: [role:oncall], quorum: 1, approvalTtl: 5m }',
    '',
  ].join('\n'), 'w.yaml');
  assert.deepEqual(cfg.people, [{ name: 'alice', unix: 'asmith', roles: ['oncall', 'admin'] }]);
  assert.equal(cfg.policy.approvalTtlMs, 20 * 60_000);
  assert.deepEqual(cfg.policy.rules[0], { match: { service: '*', host: '*' }, allow: ['restart'], approval: 'required', approvers: ['role:oncall'], quorum: 1, approvalTtlMs: 5 * 60_000 });
});

test('named API tokens: approvers may name them, their roles count, and a token acts for a listed person', () => {
  const head = 'version: 1\nservices:\n  - { name: web, start: [node] }\n';
  assert.deepEqual(configErrors(head + [
    'agent:',
    '  name: otto',
    '  api:',
    '    listen: 127.0.0.1:7070',
    '    tokens:',
    '      - { name: phone, file: phone.token, person: alice }',
    '      - { name: ci, file: ci.token, role: deploy }',
    '      - { name: bot, file: bot.token, person: mallory }',
    '      - { name: ci, file: other.token }',
    'people:',
    '  - { name: alice, roles: [oncall] }',
    'policy:',
    '  rules:',
    '    - { allow: [restart], approval: required, approvers: [token:ci, role:deploy, token:nope] }',
    '',
  ].join('\n')), [
    '11:47: agent.api.tokens[2].person: unknown person "mallory"; people are: alice',
    '12:17: agent.api.tokens[3].name: token "ci" is listed twice; token names are unique',
    '17:82: policy.rules[0].approvers[2]: no API token named "nope"; tokens are: phone, ci, bot',
  ]);
  const cfg = parseConfig(head + 'agent:\n  name: otto\n  api:\n    listen: 127.0.0.1:7070\n    publicUrl: https://warden.example.com\n    tokens: [{ name: ci, file: ci.token, role: deploy }]\n', '/etc/warden/warden.yaml');
  assert.deepEqual(cfg.agent.api?.tokens, [{ name: 'ci', file: '/etc/warden/ci.token', role: 'deploy', person: null }]);
  assert.equal(cfg.agent.api?.publicUrl, 'https://warden.example.com');
});
