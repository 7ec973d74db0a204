// Named API tokens: read from their files, each its own identity; a token file others can read is
// named by the start-up check, like the tokenFile.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeConfig } from '../testing/domain.js';
import { exposures } from './exposure.js';
import { readNamedTokens } from './identity.js';
import { apiSpec } from './testing.js';

test('named tokens act as token:NAME or as their person, with roles; an empty or shared secret refuses the start; a readable file is an exposure', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-tokens-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string, mode = 0o600): string => {
    const f = join(dir, name);
    writeFileSync(f, text, { mode });
    return f;
  };
  const people = [{ name: 'alice', unix: 'alice', roles: ['oncall'] }];
  const tokens = [
    { name: 'phone', file: file('phone', 'p-secret\n'), role: 'admin', person: 'alice' },
    { name: 'ci', file: file('ci', 'c-secret\n', 0o644), role: 'deploy', person: null },
  ];
  assert.deepEqual(readNamedTokens({ tokens }, people), [
    { name: 'phone', secret: 'p-secret', by: 'person:alice', roles: ['oncall', 'admin'] },
    { name: 'ci', secret: 'c-secret', by: 'token:ci', roles: ['deploy'] },
  ]);
  assert.throws(() => readNamedTokens({ tokens }, people, 'c-secret'), /agent\.api\.tokens\[1\] \(ci\) file .* holds the same token as agent\.api\.tokenFile/);
  assert.throws(() => readNamedTokens({ tokens: [{ ...tokens[1]!, file: file('empty', '\n') }] }, people), /\(ci\) file .*empty is empty; write a secret token into it/);
  assert.throws(() => readNamedTokens({ tokens: [{ ...tokens[1]!, file: join(dir, 'nope') }] }, people), /cannot read it \(ENOENT\)/);
  const cfg = makeConfig({ agent: { dataDir: dir, api: apiSpec({ tokens }) } });
  assert.deepEqual(exposures(cfg), [`agent.api.tokens ci: ${join(dir, 'ci')} is mode 0644: other users can read the token; chmod 600 ${join(dir, 'ci')}`]);
});
