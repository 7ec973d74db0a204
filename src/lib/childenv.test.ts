import assert from 'node:assert/strict';
import { test } from 'node:test';
import { childEnv, SECRET_ENV, TOKEN_ENV } from './childenv.js';

test("a child gets Warden's environment without its secrets, plus its own", () => {
  const parent = { PATH: '/usr/bin', HOME: '/home/w', [TOKEN_ENV]: 'sekret', UNSET: undefined };
  const env = childEnv({ PORT: '8080', HOME: '/srv' }, parent);
  assert.deepEqual(env, { PATH: '/usr/bin', HOME: '/srv', PORT: '8080' });
  for (const k of SECRET_ENV) assert.equal(k in childEnv({}, { [k]: 'x' }), false, k);
});

test('a secret the config names for a child is passed on: that is deliberate', () => {
  assert.equal(childEnv({ [TOKEN_ENV]: 'given' }, { [TOKEN_ENV]: 'warden' })[TOKEN_ENV], 'given');
});
