// Who runs a CLI command: the Unix user, as the operating system says, mapped to a person of the
// config; `--as` is an admin's override and is marked as such.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { personIdentity } from './common.js';

test('the CLI is the Unix user running it; --as someone else is for root and admins, and is marked as an override', () => {
  const people = [{ name: 'alice', unix: 'asmith', roles: ['admin'] }, { name: 'bob', unix: 'bob', roles: [] }];
  assert.deepEqual(personIdentity({ people }, undefined, { user: 'asmith', uid: 1000 }), { by: 'person:alice' });
  assert.deepEqual(personIdentity({ people }, undefined, { user: 'zed', uid: 1001 }), { by: 'person:zed' });
  assert.deepEqual(personIdentity({ people }, 'carol', { user: 'asmith', uid: 1000 }), { by: 'person:carol', override: 'person:alice' });
  assert.deepEqual(personIdentity({ people }, 'person:bob', { user: 'bob', uid: 1002 }), { by: 'person:bob' }, 'oneself is no override');
  assert.throws(() => personIdentity({ people }, 'alice', { user: 'bob', uid: 1002 }), /--as is for admins: you are person:bob, who is neither root nor a person with role admin/);
  assert.deepEqual(personIdentity({ people }, 'alice', { user: 'root', uid: 0 }), { by: 'person:alice', override: 'person:root' });
});
