// hosts: local, or ssh with an address; ssh settings on a local host and a host named like a
// service are errors at their line and column.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from './load.js';
import { configErrors } from '../testing/config.js';

const head = 'version: 1\nagent: { name: otto }\n';

describe('config: hosts', () => {
  it('compiles an ssh host with its defaults, paths made absolute', () => {
    const cfg = parseConfig(`${head}hosts:\n  - name: local\n  - { name: b, transport: ssh, address: 10.0.0.2, user: warden, identityFile: keys/id }\n`, '/etc/warden/w.yaml');
    assert.deepEqual(cfg.hosts[1], {
      name: 'b', transport: 'ssh', address: '10.0.0.2', user: 'warden', port: null, identityFile: '/etc/warden/keys/id',
      knownHostsFile: null, connectTimeoutMs: 3000, intervalMs: 2000, mounts: ['/'],
    });
    assert.deepEqual(cfg.hosts[0], { name: 'local', transport: 'local' });
  });

  it('says what an ssh host lacks and what a local one must not have', () => {
    assert.deepEqual(configErrors(`${head}hosts:\n  - name: b\n    transport: ssh\n  - name: local\n    port: 22\n`), [
      '4:5: hosts[0]: transport ssh needs address: the host name, address or ~/.ssh/config alias to connect to',
      '7:5: hosts[1].port: port is for transport ssh; this host is local (add transport: ssh to reach it over SSH)',
    ]);
  });

  it('refuses a transport it does not know', () => {
    assert.deepEqual(configErrors(`${head}hosts:\n  - { name: b, transport: telnet }\n`), ['4:27: hosts[0].transport: expected transport local or ssh; got "telnet"']);
  });

  it('takes a container or a pod on a host reached over SSH (Podman runs there, through the transport)', () => {
    const cfg = parseConfig(`${head}hosts:\n  - { name: b, transport: ssh, address: 10.0.0.2 }\nservices:\n  - { name: api, host: b, kind: container, container: { image: x } }\n  - { name: shop, host: b, kind: pod, pod: { containers: [{ name: app, image: x }] } }\n`, '/w.yaml');
    assert.deepEqual(cfg.services.map((s) => [s.name, s.host, s.kind]), [['api', 'b', 'container'], ['shop', 'b', 'pod']]);
  });

  it('refuses kind process on a host reached over SSH (Warden must be its parent)', () => {
    const errs = configErrors(`${head}hosts:\n  - { name: b, transport: ssh, address: 10.0.0.2 }\nservices:\n  - { name: api, host: b, start: [node, api.js] }\n`);
    assert.equal(errs.length, 1);
    assert.match(errs[0]!, /^6:5: services\[0\]\.kind: kind process runs as Warden's own child, so only on Warden's host; host "b" is reached over SSH: use kind: systemd there/);
  });

  it('refuses an ssh host named like a service (a host ticket is named after its host)', () => {
    const errs = configErrors(`${head}hosts:\n  - { name: db, transport: ssh, address: 10.0.0.2 }\nservices:\n  - { name: db, host: db, kind: systemd, unit: db.service }\n`);
    assert.equal(errs.length, 1);
    assert.match(errs[0]!, /host name "db" is also a service's/);
  });
});
