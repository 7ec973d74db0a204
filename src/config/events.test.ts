import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOTIFY_KINDS } from '../domain/audit.js';
import { ConfigError, parseConfig } from './load.js';

const config = (events: string): string =>
  `version: 1\nagent: { name: otto }\nnotify:\n  - name: ops\n    webhook: { url: "http://127.0.0.1:9/" }\n    events: ${events}\n`;

test('a notify channel subscribes to known event kinds only: a typo would silently mute it', () => {
  try {
    parseConfig(config('[ticket.opend, action.retry, "*"]'), 'w.yaml');
    assert.fail('expected a ConfigError');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    const kinds = ['*', ...NOTIFY_KINDS].join(', ');
    assert.deepEqual(e.issues.map((i) => `${i.line}:${i.col}: ${i.message}`), [
      `6:14: notify[0].events[0]: expected event ${kinds.replace(/, (?=[^,]*$)/, ' or ')}; got "ticket.opend" (did you mean "ticket.opened"?)`,
      `6:28: notify[0].events[1]: expected event ${kinds.replace(/, (?=[^,]*$)/, ' or ')}; got "action.retry"; action.retry is recorded in the audit log ("warden events") but not sent to channels (docs/events.md)`,
    ]);
  }
});

test('every notification kind and "*" are accepted', () => {
  const cfg = parseConfig(config(`[${['*', ...NOTIFY_KINDS].map((k) => JSON.stringify(k)).join(', ')}]`), 'w.yaml');
  assert.deepEqual(cfg.notify[0]?.events, ['*', ...NOTIFY_KINDS]);
});
