import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './load.js';
import { exampleConfig } from './template.js';

test('the example config parses and shows every section', () => {
  const cfg = parseConfig(exampleConfig(), '/home/me/warden.yaml');
  assert.equal(cfg.agent.name, 'otto');
  // init must never write a config that acts on its own before a person chose to.
  assert.equal(cfg.agent.mode, 'recommend');
  assert.deepEqual(cfg.hosts, [{ name: 'local', transport: 'local' }]);
  assert.deepEqual(cfg.services.map((s) => s.name), ['cache', 'api']);
  const [cache, api] = cfg.services;
  assert.deepEqual(cache?.start, ['redis-server', '--port', '6390', '--save', '']);
  assert.deepEqual(cache?.checks[0]?.probe, { type: 'tcp', address: '127.0.0.1:6390' });
  assert.deepEqual(api?.dependsOn, ['cache']);
  assert.equal(api?.cwd, '/home/me/lab');
  assert.deepEqual(new Set(cfg.services.flatMap((s) => s.checks.map((c) => c.probe.type))), new Set(['tcp', 'exec', 'http']));
  assert.ok((api?.runbooks.length ?? 0) > 0);
  assert.ok(cfg.policy.rules.length > 0 && cfg.policy.limits.length > 0);
});

test('the example config teaches: every top-level section is commented', () => {
  const text = exampleConfig();
  for (const key of ['version:', 'agent:', 'hosts:', 'services:', 'policy:']) {
    const line = text.split('\n').find((l) => l.startsWith(key));
    assert.ok(line !== undefined, `${key} is missing`);
  }
  const settings = text.split('\n').filter((l) => /^\s+[a-zA-Z]+:/.test(l) && !/^\s+- /.test(l));
  const commented = settings.filter((l) => l.includes('#'));
  assert.ok(commented.length / settings.length > 0.6, `only ${commented.length} of ${settings.length} settings have a comment`);
});
