import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runArgv, shellQuote } from './args.js';

void describe('podman run argv', () => {
  const c = {
    name: 'web', image: 'localhost/app:1', command: ['sh', '-c', 'echo up'], env: { A: 'b' }, ports: ['8080:80'], memoryBytes: 1048576,
    healthcheck: { command: ['test', '-f', "/tmp/it's"], intervalMs: 500, timeoutMs: 1500, retries: 2 }, network: 'none', runtime: 'runc', ulimits: { nofile: '1024:1024' },
  };

  it('labels the container with its service and action, and passes every option as its own argument', () => {
    const argv = runArgv('podman', c, { service: 'web', actionId: 'A1', stopSignal: 'SIGTERM', stopGraceMs: 1500 });
    assert.deepEqual(argv.slice(0, 4), ['podman', '--runtime', 'runc', 'run']);
    for (const pair of [['--label', 'warden.action=A1'], ['--memory', '1048576'], ['--memory-swap', '1048576'], ['--ulimit', 'nofile=1024:1024'],
      ['--stop-timeout', '2'], ['--publish', '8080:80'], ['--env', 'A=b'], ['--health-retries', '2'], ['--health-timeout', '2s'], ['--health-interval', 'disable']]) {
      assert.ok(argv.some((a, j) => a === pair[0] && argv[j + 1] === pair[1]), `${pair.join(' ')} in ${argv.join(' ')}`);
    }
    assert.deepEqual(argv.slice(-5), ['--', 'localhost/app:1', 'sh', '-c', 'echo up']);
  });

  it("quotes the healthcheck's argv for the container's sh", () => {
    const argv = runArgv('podman', c, { service: 'web', actionId: null, stopSignal: 'SIGTERM', stopGraceMs: 0 });
    assert.equal(argv[argv.indexOf('--health-cmd') + 1], "'test' '-f' '/tmp/it'\\''s'");
    assert.equal(shellQuote(''), "''");
  });
});
