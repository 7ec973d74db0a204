import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/issues.js';
import { LAB } from '../demo/lab.js';
import { evalConfig, resolveLab } from './stage.js';
import { parseConfig } from '../config/load.js';
import { campaignSchema, loadScenario, loadYaml, parseYaml, scenarioPath, scenarioSchema } from './catalog.js';

const scenarios = readdirSync(join(LAB, 'scenarios')).filter((f) => f.endsWith('.yaml'));

void describe('the fault catalog', () => {
  it('has at least 20 scenarios, 3 no-fault controls, and AIOpsLab\'s non-Kubernetes fault types', () => {
    const all = scenarios.map((f) => loadScenario(join(LAB, 'scenarios', f)));
    assert.ok(all.length >= 20, `${all.length} scenarios`);
    assert.ok(all.filter((s) => s.expect.outcome === 'none').length >= 3);
    const refs = all.flatMap((s) => (s.reference ? [s.reference.aiopslab] : [])).join(' | ');
    for (const t of ['port', 'credentials', 'scaled to zero', 'network loss', 'process failure', 'no-op']) assert.match(refs, new RegExp(t));
  });

  for (const f of scenarios) {
    it(`${f} validates, and its lab compiles into a valid warden.yaml`, () => {
      const s = loadScenario(join(LAB, 'scenarios', f));
      const lab = resolveLab(s);
      assert.ok(lab.services.length > 0);
      // Templates filled with stand-ins: the services must be what warden.yaml accepts.
      const filled = JSON.stringify(lab.services).replace(/\$\{port:[a-z0-9-]+\}/g, '1234').replace(/\$\{(dir|lab)\}/g, '/tmp/x').replace(/\$\{vol:[a-z0-9-]+\}/g, '/tmp/x/vol');
      const text = evalConfig('/tmp/x', JSON.parse(filled) as Record<string, unknown>[]);
      const cfg = parseConfig(text, `${f}.warden.yaml`);
      const names = cfg.services.map((x) => x.name);
      if (s.expect.rootCause) assert.ok(names.includes(s.expect.rootCause.service), `${s.expect.rootCause.service} is in the lab`);
      for (const a of s.expect.actions) assert.ok(names.includes(a.split(' ')[1]!), `${a} targets a lab service`);
    });
  }

  it('every campaign names scenarios that exist', () => {
    for (const f of readdirSync(join(LAB, 'campaigns'))) {
      const file = join(LAB, 'campaigns', f);
      for (const ref of loadYaml(file, campaignSchema).scenarios) loadScenario(scenarioPath(ref, file));
    }
  });

  it('a broken scenario is reported at file:line:col, every problem at once', () => {
    const text = 'name: bad\ndescription: x\nlab: default\nfault:\n  type: kil\n  target: web\nexpect:\n  rootCause: { service: web, cause: exited }\n  outcome: resolved\n';
    assert.throws(() => parseYaml(text, 'bad.yaml', scenarioSchema), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      const msgs = e.issues.map((i) => `${i.file}:${i.line}:${i.col}`);
      assert.ok(msgs.includes('bad.yaml:5:9'), msgs.join(', '));
      assert.ok(msgs.includes('bad.yaml:8:37'), msgs.join(', '));
      assert.match(e.message, /bad\.yaml:8:37: .*process_exited/);
      assert.match(e.message, /bad\.yaml:5:9: fault\.type: expected one of none \| kill \| .*, got "kil"/);
      return true;
    });
  });

  it('a no-fault control with a root cause, and a fault without one, are refused', () => {
    const base = 'name: x\ndescription: x\nlab: default\n';
    assert.throws(() => parseYaml(`${base}fault: { type: none }\nexpect: { outcome: none, rootCause: { service: web, cause: unknown } }\n`, 'x.yaml', scenarioSchema), /x\.yaml:5:\d+: expect: a no-fault control/);
    assert.throws(() => parseYaml(`${base}fault: { type: kill, target: web }\nexpect: { outcome: resolved }\n`, 'x.yaml', scenarioSchema), /needs expect\.rootCause/);
  });

  it('YAML syntax errors are located too', () => {
    assert.throws(() => parseYaml('name: [x\n', 'y.yaml', scenarioSchema), /y\.yaml:\d+:\d+: YAML:/);
  });
});
