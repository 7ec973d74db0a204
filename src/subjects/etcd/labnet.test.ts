// The lab's names and addresses: pure functions of the lab id, checked without root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labNames, newLabId, subnetFor } from './labnet.js';

/** Linux refuses link names longer than this (IFNAMSIZ - 1). */
const IFNAME_MAX = 15;

test('every link name fits Linux\'s 15 characters and carries the lab prefix', () => {
  for (let k = 0; k < 50; k++) {
    const n = labNames(newLabId());
    for (const name of [n.bridge, n.hostVeth(0), n.hostVeth(8), n.netns(8)]) {
      assert.ok(name.length <= IFNAME_MAX, `${name} is ${name.length} characters`);
      assert.ok(name.startsWith(`wde-${n.id}-`), name);
    }
  }
  assert.throws(() => labNames('../etc'), /expected 6 hex digits/);
});

test('the /24 follows from the id and stays in 10.200.0.0–10.249.255.0', () => {
  const s = subnetFor('3fa9c1');
  assert.deepEqual(subnetFor('3fa9c1').cidr, s.cidr, 'the same id, the same /24');
  assert.match(s.cidr, /^10\.(2[0-4]\d)\.\d{1,3}\.0\/24$/);
  assert.equal(s.hostIp, `${s.base}.1`);
  assert.deepEqual([0, 1, 2].map((i) => s.memberIp(i)), [`${s.base}.11`, `${s.base}.12`, `${s.base}.13`]);
  const seen = new Set<string>();
  for (const id of ['000000', 'ffffff', '0000ff', '00ff00', 'ff0000', '123456']) {
    const { cidr } = subnetFor(id);
    const [, a, b] = /^10\.(\d+)\.(\d+)\./.exec(cidr) ?? [];
    assert.ok(Number(a) >= 200 && Number(a) <= 249 && Number(b) >= 0 && Number(b) <= 255, cidr);
    seen.add(cidr);
  }
  assert.equal(seen.size, 6, 'different ids spread over different /24s');
});
