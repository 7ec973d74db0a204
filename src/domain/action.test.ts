import { test } from 'node:test';
import assert from 'node:assert/strict';
import { proposeAction, retryIn, transitionAction, TransitionError } from './action.js';

const ctx = { now: 1_000_000, actor: 'otto', stamp: { mono: 5_000, boot: 'b1' } };
const proposed = proposeAction({ id: 'A1', type: 'restart', target: 'web', params: {}, ticketId: null, idempotencyKey: 'k', state: 'validated', why: {} }, ctx).next;

test('an event from the wrong state is refused with what it needs, and changes nothing', () => {
  assert.throws(() => transitionAction(proposed, { type: 'approve', by: 'alice' }, ctx), (e: unknown) =>
    e instanceof TransitionError && e.code === 'INVALID_TRANSITION' && /A1 is validated; approve needs awaiting_approval/.test(e.message));
  assert.equal(proposed.state, 'validated');
});

test('a retry waits its backoff on monotonic time: wall steps neither shorten nor stretch it', () => {
  const running = transitionAction(proposed, { type: 'start' }, ctx).next;
  const retry = transitionAction(running, { type: 'retry', error: 'boom', backoffMs: 400 }, ctx).next;
  assert.equal(retry.state, 'validated');
  assert.equal(retry.notBefore, ctx.now + 400);
  // 100 ms later on the monotonic clock, with the wall clock stepped an hour either way.
  assert.equal(retryIn(retry, { wall: ctx.now + 3_600_000, mono: 5_100, boot: 'b1' }), 300);
  assert.equal(retryIn(retry, { wall: ctx.now - 3_600_000, mono: 5_100, boot: 'b1' }), 300);
  assert.ok(retryIn(retry, { wall: ctx.now - 3_600_000, mono: 5_400, boot: 'b1' }) <= 0, 'due after 400 ms whatever the wall says');
  // After a reboot monotonic time restarted: the wall clock is all there is.
  assert.equal(retryIn(retry, { wall: ctx.now + 100, mono: 10, boot: 'b2' }), 300);
});
