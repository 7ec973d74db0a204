import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isFdShortage, WardenError } from './errors.js';

test('a descriptor shortage is found in an error or its causes; other errors are not one', () => {
  const emfile = Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
  assert.equal(isFdShortage(emfile), true);
  assert.equal(isFdShortage(new WardenError('SPAWN_FAILED', 'cannot start web', { cause: Object.assign(new Error('x'), { code: 'ENFILE' }) })), true);
  assert.equal(isFdShortage(Object.assign(new Error('no such file'), { code: 'ENOENT' })), false);
  assert.equal(isFdShortage('EMFILE'), false);
  assert.equal(isFdShortage(null), false);
});
