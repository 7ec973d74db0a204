// Runbook workflows and reverts in warden.yaml: compiled as docs/runbooks.md says, and every
// mistake (a cycle, an unknown step, a revert that names nothing) reported at file:line:col.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from './load.js';
import { configErrors } from '../testing/config.js';

function y(s: string): string {
  const lines = s.replace(/^\n/, '').split('\n');
  const indent = /^ */.exec(lines[0] ?? '')?.[0].length ?? 0;
  return lines.map((l) => l.slice(indent)).join('\n');
}
const HEAD = 'version: 1\nagent: { name: otto }\n';

test('a workflow runbook compiles: steps, needs, conditions, verifications, on-failure steps and a revert', () => {
  const cfg = parseConfig(HEAD + y(`
    services:
      - name: web
        start: [node, web.js]
        reverts: { restart: { runbook: rollback } }
        runbooks:
          - name: upgrade
            for: [config_drift]
            revert: { action: restart }
            steps:
              - { name: drain, run: [sh, drain.sh], timeout: 5s }
              - name: bounce
                action: { type: restart }
                needs: [drain]
                verify: { http: { url: "http://127.0.0.1:8080/healthz" }, timeout: 3s, interval: 250ms }
              - { name: thaw, run: [sh, thaw.sh], if: { cause: [process_hung] }, verify: [test, -e, thawed] }
            onFailure:
              - { name: undrain, run: [sh, undrain.sh], if: { stepFailed: bounce } }
          - { name: rollback, run: [sh, rollback.sh] }
  `), '/srv/w.yaml');
  const web = cfg.services[0]!;
  const wf = web.runbooks[0]!.workflow!;
  assert.deepEqual(web.runbooks[0]!.argv, []);
  assert.deepEqual(web.runbooks[0]!.revert, { type: 'restart', params: {} });
  assert.deepEqual(web.reverts, { restart: { type: 'run-runbook', params: { runbook: 'rollback' } } });
  assert.deepEqual(wf.steps.map((s) => [s.name, s.needs, s.timeoutMs]), [['drain', [], 5000], ['bounce', ['drain'], 60_000], ['thaw', [], 60_000]]);
  assert.deepEqual(wf.steps[1]!.action, { type: 'restart', params: {} });
  assert.deepEqual(wf.steps[1]!.verify, { argv: null, probe: { type: 'http', url: 'http://127.0.0.1:8080/healthz', expectStatus: 200 }, timeoutMs: 3000, intervalMs: 250 });
  assert.deepEqual(wf.steps[2]!.verify, { argv: ['test', '-e', 'thawed'], probe: null, timeoutMs: 10_000, intervalMs: 500 });
  assert.deepEqual(wf.steps[2]!.if, { cause: ['process_hung'] });
  assert.deepEqual(wf.onFailure.map((s) => [s.name, s.if]), [['undrain', { stepFailed: 'bounce' }]]);
  assert.equal(web.runbooks[1]!.workflow, undefined);
});

test('workflow mistakes are reported where they are written', () => {
  assert.deepEqual(configErrors(HEAD + y(`
    services:
      - name: web
        start: [node, web.js]
        reverts: { restart: { runbook: rolback } }
        runbooks:
          - name: upgrade
            steps:
              - { name: a, run: [x], needs: [c] }
              - { name: b, run: [x], needs: [a] }
              - { name: c, run: [x], needs: [b] }
              - { name: d, run: [x], needs: [nope], action: { type: restart } }
              - { name: a, action: { type: restart, params: { recreate: maybe } } }
              - { name: e, if: { stepFailed: zz } }
            onFailure:
              - { name: f, run: [x], needs: [a] }
          - { name: empty }
          - { name: both, run: [x], steps: [{ name: s, run: [x] }] }
          - { name: lonely, run: [x], onFailure: [{ name: o, run: [x] }], revert: { runbook: lonely } }
  `)), [
    `6:36: services[0].reverts.restart.runbook: unknown runbook "rolback"; this service's runbooks are: upgrade, empty, both, lonely`,
    '10:41: services[0].runbooks[0].steps[0].needs: step dependency cycle: a -> c -> b -> a; a step cannot wait for itself',
    '13:42: services[0].runbooks[0].steps[3].needs[0]: unknown step "nope" in needs; the main steps are: a, b, c, d, e',
    '13:49: services[0].runbooks[0].steps[3].action: a step has run or action, not both',
    '14:21: services[0].runbooks[0].steps[4].name: duplicate step name "a" (also at steps[0]); each step needs a name of its own',
    '14:57: services[0].runbooks[0].steps[4].action.params: invalid params for restart: Invalid option: expected one of "true"|"false"',
    '15:13: services[0].runbooks[0].steps[5]: a step needs run (a command) or action (start, restart or stop)',
    '15:42: services[0].runbooks[0].steps[5].if.stepFailed: unknown step "zz"; stepFailed names one of the main steps: a, b, c, d, e',
    '17:42: services[0].runbooks[0].onFailure[0].needs[0]: unknown step "a" in needs; the onFailure steps are: f',
    '18:9: services[0].runbooks[1]: a runbook needs run (one command) or steps (a workflow)',
    '19:33: services[0].runbooks[2].steps: a runbook has run (one command) or steps (a workflow), not both',
    '20:35: services[0].runbooks[3].onFailure: onFailure belongs to a workflow: give the runbook steps, or remove onFailure',
    '20:90: services[0].runbooks[3].revert.runbook: runbook "lonely" cannot be its own revert',
  ]);
});
