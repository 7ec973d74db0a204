// warden eval on a small campaign of real labs (a kill, a dependency, a port taken, a control), read
// through --json as CI would; then warden explain on each kept run's ticket names the cause, cites
// the evidence and lists the rejected alternatives.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { LAB, ROOT } from '../../src/demo/lab.js';
import type { EvalReport } from '../../src/eval/campaign.js';
import type { Explanation } from '../../src/views/explain.js';
import { cli, WARDEN } from './harness.js';

function evalJson(args: string[]): Promise<{ code: number; report: EvalReport; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(WARDEN, ['eval', ...args, '--json'], { cwd: ROOT, timeout: 150_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      try {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, report: JSON.parse(stdout) as EvalReport, stderr });
      } catch (e) {
        reject(new Error(`warden eval printed no JSON (${String(e)}): ${stderr}`));
      }
    });
  });
}

test('warden eval runs a small campaign and scores it; warden explain tells each ticket', { skip: process.getuid?.() !== 0 ? 'the catalog\'s port and kill scenarios run anywhere, but the campaign runner is tested as root like the rest of the lab' : false }, async (t) => {
  const { code, report, stderr } = await evalJson([join(LAB, 'campaigns', 'smoke.yaml'), '--keep', '--seed', '3']);
  t.after(() => { for (const r of report.runs) if (r.config) rmSync(dirname(r.config), { recursive: true, force: true }); });
  const why = report.runs.filter((r) => !r.result.ok).map((r) => `${r.scenario}: ${r.result.why}`).join('; ');
  assert.equal(code, 0, `${why} ${stderr}`);

  const m = report.metrics;
  assert.deepEqual([m.runs, m.faultRuns, m.controlRuns, m.errors], [4, 3, 1, 0]);
  for (const rate of [m.detection, m.localization, m.rootCause, m.mitigation, m.passed]) assert.equal(rate.rate, 1, why);
  assert.deepEqual(m.falsePositives, { rate: 0, hits: 0, of: 1 });
  assert.equal(m.needlessActions, 0);
  assert.deepEqual(m.llm, { calls: 0, tokens: 0 });
  assert.equal(m.timeToDetectMs.n, 3);
  assert.ok(m.timeToDetectMs.p50 !== null && m.timeToDetectMs.p95! >= m.timeToDetectMs.p50);
  // kill-web and dependency-down are repaired; port-in-use is left to people.
  assert.equal(m.timeToMitigateMs.n, 2);
  assert.deepEqual(Object.keys(report).sort(), ['campaign', 'diagnosers', 'durationMs', 'file', 'metrics', 'repeat', 'runs', 'seed', 'startedAt']);
  assert.deepEqual(report.runs.map((r) => r.scenario).sort(), ['control-idle', 'dependency-down', 'kill-web', 'port-in-use']);

  for (const r of report.runs.filter((x) => x.result.ticket)) {
    const res = await cli(['explain', r.result.ticket!.id, '--json'], { config: r.config! });
    assert.equal(res.code, 0, res.stderr);
    const x = JSON.parse(res.stdout) as Explanation;
    assert.deepEqual([x.rootCause?.service, x.rootCause?.cause], [r.result.expect.service, r.result.expect.cause], r.scenario);
    assert.match(x.timeline[0]!.event, /^opened: /);
    assert.ok(x.timeline.some((e) => e.event.startsWith('diagnosed by rules')), r.scenario);
    assert.ok(x.evidence.length > 0 && x.rejected.length > 0, r.scenario);
    for (const alt of x.rejected) assert.ok(alt.why.length > 0 && alt.cause !== x.rootCause?.cause);
  }
  const byName = new Map(report.runs.map((r) => [r.scenario, r]));
  const port = byName.get('port-in-use')!;
  const text = await cli(['explain', port.result.ticket!.id], { config: port.config! });
  assert.match(text.stdout, /Root cause: web on local: config_drift/);
  // The line that decided is cited by its evidence piece: line N of web's log tail.
  assert.match(text.stdout, /\[log:web:\d+\] port \d+ already in use/);
  assert.match(text.stdout, /\[port\] port \d+ is held by pid \d+/);
  assert.match(text.stdout, /Alternatives considered and rejected\n(?:  - .*\n)*  - process_exited: the log shows port \d+ already in use/);
  assert.match(text.stdout, /No automatic repair: port \d+ is held by pid/);
  const dep = await cli(['explain', byName.get('dependency-down')!.result.ticket!.id, '--json'], { config: byName.get('dependency-down')!.config! });
  const dx = JSON.parse(dep.stdout) as Explanation;
  // The cache is back within ~50 ms, often before web's check fails: web's symptom may or may not be cited.
  assert.ok(dx.evidence.some((e) => e.source === 'process' && /exited by signal SIGKILL/.test(e.fact)), JSON.stringify(dx.evidence));
  assert.ok(dx.actions.every((a) => a.target === 'cache'), 'only the cache is repaired');
});

test('warden eval reports a broken scenario at file:line:col and runs nothing', async () => {
  const res = await cli(['eval', join(ROOT, 'test', 'e2e', 'fixtures', 'broken-campaign.yaml')]);
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /broken-scenario\.yaml:6:\d+: fault\.signal: expected a signal name/);
});
