import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRegex, regexProblem } from './regex.js';

test('a bare pattern is a regex; /pattern/flags carries flags, minus the stateful ones', () => {
  assert.equal(parseRegex('^ok$').test('ok'), true);
  assert.equal(parseRegex('a/b').test('xa/by'), true);
  assert.equal(parseRegex('/OK/i').test('ok'), true);
  const re = parseRegex('/o/g');
  assert.equal(re.flags, '');
  assert.equal(re.test('o') && re.test('o'), true);
});

test('a bad regex is named with the reason, without the pattern repeated', () => {
  assert.equal(regexProblem('ok'), null);
  assert.equal(regexProblem('('), 'Unterminated group');
  assert.equal(regexProblem('/[/i'), 'Unterminated character class');
});
