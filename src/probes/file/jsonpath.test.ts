import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJsonPath, pick } from './jsonpath.js';

test('paths read as in JavaScript: keys, [index] and ["quoted.key"]', () => {
  assert.deepEqual(parseJsonPath('status'), ['status']);
  assert.deepEqual(parseJsonPath('a.b[0].c'), ['a', 'b', 0, 'c']);
  assert.deepEqual(parseJsonPath('members[2]["raft.term"]'), ['members', 2, 'raft.term']);
  assert.deepEqual(parseJsonPath('[1][0]'), [1, 0]);
  assert.deepEqual(parseJsonPath('["say \\"hi\\""]'), ['say "hi"']);
});

test('a malformed path says where it stops making sense', () => {
  assert.throws(() => parseJsonPath(''), /empty path/);
  assert.throws(() => parseJsonPath('a..b'), /at character 3 of a\.\.b/);
  assert.throws(() => parseJsonPath('a[x]'), /at character 2 of a\[x\]/);
  assert.throws(() => parseJsonPath('a.'), /at character 3 of a\./);
  assert.throws(() => parseJsonPath('a["b]'), /at character 2/);
});

test('pick finds the value, or names how far the path got', () => {
  const doc = { a: { b: [{ c: 3 }, null] }, 'x.y': true };
  assert.deepEqual(pick(doc, ['a', 'b', 0, 'c']), { found: true, value: 3 });
  assert.deepEqual(pick(doc, ['a', 'b', 1]), { found: true, value: null });
  assert.deepEqual(pick(doc, ['x.y']), { found: true, value: true });
  assert.deepEqual(pick(doc, ['a', 'b', 5, 'c']), { found: false, missing: 'a.b[5]' });
  assert.deepEqual(pick(doc, ['a', 'z']), { found: false, missing: 'a.z' });
  // An index into an object, or a key into an array, is not found (no coercion).
  assert.deepEqual(pick({ 0: 1 }, [0]), { found: false, missing: '[0]' });
  assert.deepEqual(pick([1], ['length']), { found: false, missing: 'length' });
  assert.deepEqual(pick({}, ['toString']), { found: false, missing: 'toString' });
});
