import { test } from 'node:test';
import assert from 'node:assert/strict';
import { didYouMean, MAX_SUGGEST_LENGTH, suggestion } from './suggest.js';

test('a typo gets the closest name: a swap, a missing or a wrong letter', () => {
  assert.equal(didYouMean('nmae', ['name', 'host', 'kind']), 'name');
  assert.equal(didYouMean('intreval', ['interval', 'timeout']), 'interval');
  assert.equal(didYouMean('tiemout', ['interval', 'timeout']), 'timeout');
  assert.equal(didYouMean('Webhook', ['webhook']), 'webhook');
  assert.equal(suggestion('restrat', ['start', 'restart', 'stop']), ' (did you mean "restart"?)');
});

test('nothing close enough, or the word itself, is no suggestion', () => {
  assert.equal(didYouMean('zzz', ['name', 'host']), null);
  assert.equal(didYouMean('name', ['name']), null);
  assert.equal(didYouMean('a', []), null);
  assert.equal(suggestion('qqqqqq', ['start']), '');
});

test('names longer than the cap get no suggestion, so the cost per pair stays bounded', () => {
  // Two 3,000-character names one letter apart: the full edit-distance matrix would be 9 M cells
  // (at 20,000 characters, 400 M cells: 55 s and 3.2 GB). Typos worth guessing are short.
  const long = 'x'.repeat(3_000);
  assert.equal(didYouMean(`${long}a`, [`${long}b`]), null);
  assert.equal(didYouMean('web', [`${long}b`, 'wbe']), 'wbe');
  const atCap = 'y'.repeat(MAX_SUGGEST_LENGTH - 1);
  assert.equal(didYouMean(`${atCap}a`, [`${atCap}b`]), `${atCap}b`);
});
