// A workflow's order and progress as pure functions of its spec and its step records.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StepRecord, WorkflowSpec, WorkflowStep } from './types.js';
import { findCycle, nextStep, stepOrder, withRecord } from './workflow.js';

function step(name: string, over: Partial<WorkflowStep> = {}): WorkflowStep {
  return { name, run: ['true'], action: null, needs: [], if: null, verify: null, timeoutMs: 1000, ...over };
}
function rec(name: string, state: StepRecord['state'], branch: StepRecord['branch'] = 'steps'): StepRecord {
  return { name, branch, state, startedAt: 1, finishedAt: state === 'running' ? null : 2, detail: state === 'failed' ? 'exited with 1' : null };
}
/** Runs the workflow to its end as the runner would, each step ending as `outcome` says. */
function play(wf: WorkflowSpec, outcome: (name: string) => 'succeeded' | 'failed', cause: 'process_hung' | null = null): { trace: string[]; end: string } {
  let records: StepRecord[] = [];
  const trace: string[] = [];
  for (;;) {
    const n = nextStep(wf, records, cause);
    if (n.do === 'finish') return { trace, end: `${n.ok ? 'ok' : 'failed'}: ${n.summary}` };
    if (n.do === 'skip') { trace.push(`skip ${n.step.name} (${n.why})`); records = withRecord(records, rec(n.step.name, 'skipped', n.branch)); continue; }
    trace.push(`${n.branch === 'onFailure' ? 'onFailure ' : ''}${n.step.name}`);
    records = withRecord(records, rec(n.step.name, outcome(n.step.name), n.branch));
  }
}

test('steps run in dependency order, ties in the order written', () => {
  const order = stepOrder([step('c', { needs: ['b'] }), step('a'), step('b', { needs: ['a'] }), step('d')]);
  assert.deepEqual(order.map((s) => s.name), ['a', 'b', 'c', 'd']);
});

test('a cycle is found and named around', () => {
  assert.deepEqual(findCycle([{ name: 'a', needs: ['c'] }, { name: 'b', needs: ['a'] }, { name: 'c', needs: ['b'] }]), ['a', 'c', 'b', 'a']);
  assert.equal(findCycle([{ name: 'a', needs: [] }, { name: 'b', needs: ['a'] }]), null);
});

test('all steps succeed: the workflow succeeds and never touches onFailure', () => {
  const wf = { steps: [step('drain'), step('restart', { needs: ['drain'] })], onFailure: [step('undrain')] };
  assert.deepEqual(play(wf, () => 'succeeded'), { trace: ['drain', 'restart'], end: 'ok: drain succeeded, restart succeeded' });
});

test('a failing step stops the workflow: the steps after it do not run, the on-failure steps do', () => {
  const wf = {
    steps: [step('drain'), step('migrate', { needs: ['drain'] }), step('restart', { needs: ['migrate'] }), step('notify')],
    onFailure: [step('undrain', { if: { stepFailed: 'migrate' } }), step('page', { if: { stepFailed: 'drain' } }), step('log', { needs: ['undrain'] })],
  };
  const r = play(wf, (n) => (n === 'migrate' ? 'failed' : 'succeeded'));
  assert.deepEqual(r.trace, ['drain', 'migrate', 'onFailure undrain', 'skip page (step drain did not fail)', 'onFailure log']);
  assert.equal(r.end, 'failed: step migrate failed: exited with 1; on failure: undrain succeeded, page skipped, log succeeded');
});

test('an on-failure step whose need failed is skipped', () => {
  const wf = { steps: [step('a')], onFailure: [step('x'), step('y', { needs: ['x'] })] };
  const r = play(wf, (n) => (n === 'y' ? 'succeeded' : 'failed'));
  assert.deepEqual(r.trace, ['a', 'onFailure x', 'skip y (step x it needs failed)']);
});

test('a condition on the cause skips a step; a skipped step counts as done for its dependents', () => {
  const wf = { steps: [step('thaw', { if: { cause: ['process_hung'] } }), step('check', { needs: ['thaw'] })], onFailure: [] };
  assert.deepEqual(play(wf, () => 'succeeded', null).trace, ['skip thaw (the cause is not known, not process_hung)', 'check']);
  assert.deepEqual(play(wf, () => 'succeeded', 'process_hung').trace, ['thaw', 'check']);
});

test('a step recorded as running (Warden stopped mid-step) is resumed, not started again', () => {
  const wf = { steps: [step('a'), step('b', { needs: ['a'] })], onFailure: [step('z')] };
  const n = nextStep(wf, [rec('a', 'succeeded'), rec('b', 'running')], null);
  assert.equal(n.do, 'resume');
  assert.equal(n.do === 'resume' ? n.step.name : '', 'b');
  const m = nextStep(wf, [rec('a', 'failed'), rec('z', 'running', 'onFailure')], null);
  assert.equal(m.do === 'resume' ? `${m.branch} ${m.step.name}` : m.do, 'onFailure z');
});
