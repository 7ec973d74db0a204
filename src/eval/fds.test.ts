// The exhaust-fds injector against a real process: a descriptor the service holds for a moment
// when the limit is set (a write, a health check's connection) must not leave it a slot to run on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { capFds } from './fds.js';

// Holds /dev/null open at its lowest free slot (the "transient" descriptor) until told to close it;
// on "open" it opens /dev/null again and says whether it could.
const CHILD = `
const fs = require('node:fs');
const extra = fs.openSync('/dev/null', 'r');
process.stdin.setEncoding('utf8');
let buf = '';
process.stdin.on('data', (d) => {
  buf += d;
  for (let i = buf.indexOf('\\n'); i >= 0; i = buf.indexOf('\\n')) {
    const cmd = buf.slice(0, i); buf = buf.slice(i + 1);
    if (cmd === 'close') { fs.closeSync(extra); console.log('closed'); }
    if (cmd === 'open') { try { fs.closeSync(fs.openSync('/dev/null', 'r')); console.log('opened'); } catch (e) { console.log(e.code); } }
  }
});
console.log('ready');
`;

test('exhaust-fds: a descriptor that was open for a moment when the limit was set leaves no slot free', async (t) => {
  const child = spawn(process.execPath, ['-e', CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => (await lines.next()).value as string;
  assert.equal(await next(), 'ready');

  const capped = capFds(child.pid!, 300); // sets the limit at once, then watches for a slot freed below it
  child.stdin.write('close\n');
  assert.equal(await next(), 'closed');
  await capped;
  child.stdin.write('open\n');
  assert.equal(await next(), 'EMFILE', 'its next open fails: no slot below the limit is free');
  child.stdin.end();
  await once(child.stdout, 'end');
});
