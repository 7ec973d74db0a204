import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { portListeners } from './sockets.js';

void describe('portListeners', () => {
  it('names this process as the holder of a port it listens on, and reports the port free once closed', async () => {
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const addr = srv.address();
    assert.ok(addr && typeof addr === 'object');
    const held = portListeners(addr.port);
    assert.equal(held.held, true);
    assert.deepEqual(held.holders.map((h) => h.pid), [process.pid]);
    assert.ok(held.holders[0]!.command.length <= 200);
    await new Promise<void>((r) => srv.close(() => r()));
    assert.deepEqual(portListeners(addr.port), { port: addr.port, held: false, holders: [] });
  });
});
