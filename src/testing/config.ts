// Config fixtures for tests: what parseConfig rejects a text for, in the form users see it.
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../config/load.js';

/** The errors parseConfig reports for `text`, as `line:col: message`; fails when it is accepted. */
export function configErrors(text: string): string[] {
  try {
    parseConfig(text, 'w.yaml');
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    return e.issues.map((i) => `${i.line}:${i.col}: ${i.message}`);
  }
  assert.fail('expected the config to be rejected');
}
