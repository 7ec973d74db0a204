// A repair that fails can fail because of what broke: a restart refused with `spawn … ENOENT`
// shows the binary is gone, which the first diagnosis (an exit) could not know. The ticket is
// diagnosed again on that evidence before it escalates, so its cause names what a person must fix.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Driver, dead, exitAt, makeConfig, T0 } from '../testing/domain.js';
import type { ProcessState } from './types.js';

const ENOENT = 'spawn /srv/app/bin/node ENOENT';

/** Killed, then its restart refused: the exit is still on record, beside the spawn error. */
function cannotStart(): ProcessState {
  return { ...dead([exitAt(T0 - 1, { signal: 'SIGKILL' })]), spawnError: ENOENT };
}

void describe('decide: a failed repair', () => {
  it('is diagnosed again when the failure is new evidence: a missing binary is config_drift', () => {
    const d = new Driver(makeConfig());
    d.pass({ cache: dead() });
    assert.equal(d.onlyTicket().cause, 'process_exited');
    d.startAction('A1');
    d.failAction('A1', ENOENT);
    const out = d.advance(10).pass({ cache: cannotStart() });
    const t = d.onlyTicket();
    assert.equal(t.status, 'escalated');
    assert.equal(t.cause, 'config_drift');
    assert.deepEqual(t.rootCause, { service: 'cache', host: 'local', cause: 'config_drift' });
    assert.match(t.reason ?? '', /\/srv\/app\/bin\/node/, 'the reason names the missing binary');
    assert.match(t.reason ?? '', /action A1 \(restart cache\) failed/, 'and the failed repair that showed it');
    assert.deepEqual(out.execute, [], 'no second restart: it cannot start');
    assert.ok(out.audit.some((i) => i.kind === 'ticket.diagnosed' && i.data.cause === 'config_drift'));
    assert.deepEqual(d.advance(10).pass({ cache: cannotStart() }).execute, [], 'left alone afterwards');
  });

  it('escalates with the action error when the evidence is unchanged', () => {
    const d = new Driver(makeConfig());
    d.pass({ cache: dead() });
    d.startAction('A1');
    d.failAction('A1', 'timed out after 10000 ms');
    const out = d.advance(10).pass({ cache: dead() });
    const t = d.onlyTicket();
    assert.equal(t.status, 'escalated');
    assert.equal(t.cause, 'process_exited');
    assert.equal(t.reason, 'action A1 (restart cache) failed: timed out after 10000 ms');
    assert.deepEqual(out.execute, []);
  });
});
