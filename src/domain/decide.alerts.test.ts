// Issue 13 point 6: alerts from Alertmanager are findings like any other. A firing alert opens a
// ticket on the service its labels name (or joins the ticket of the broken dependency it follows
// from), its facts are the diagnosis's evidence, and its resolution resolves the ticket.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Driver, dead, makeConfig, runbook, running, type ServiceView } from '../testing/domain.js';
import type { AlertFacts, ProcessState, World } from './types.js';

function alert(name: string, over: Partial<AlertFacts> = {}): AlertFacts {
  return {
    fingerprint: `fp-${name}`, name, labels: { alertname: name, service: 'web', severity: 'page' },
    annotations: { summary: `${name} on web` }, startsAt: '2025-01-01T00:00:00.000Z',
    generatorURL: 'http://prometheus:9090/graph?g0.expr=up', ...over,
  };
}

function withAlerts(d: Driver, alerts: Record<string, AlertFacts[]>, views: Record<string, ProcessState | ServiceView> = {}): World {
  return { ...d.world(views), alerts };
}

describe('an alert on a healthy service', () => {
  it('opens one ticket on it, waits for the alert (no repair, no escalation), and resolves with it', () => {
    const d = new Driver(makeConfig());
    d.pass();
    const out = d.advance(100).pass(withAlerts(d, { web: [alert('HighErrorRate')] }));
    const t = d.onlyTicket();
    assert.equal(t.service, 'web');
    assert.deepEqual(t.findings.map((f) => [f.service, f.kind]), [['web', 'unresolved_incident']]);
    assert.match(t.findings[0]!.reason, /^alert HighErrorRate firing since 2025-01-01T00:00:00.000Z: HighErrorRate on web$/);
    assert.equal(t.status, 'open');
    assert.match(t.reason ?? '', /Alertmanager/);
    assert.equal(out.execute.length, 0, 'nothing is restarted for an alert');
    assert.equal(out.detection.health.web?.health, 'unhealthy');
    // The alert's facts are the evidence a person reads.
    const ev = t.diagnosis!.evidence.find((e) => e.source === 'alert:HighErrorRate');
    assert.ok(ev, JSON.stringify(t.diagnosis!.evidence));
    for (const s of ['severity=page', 'summary=HighErrorRate on web', '2025-01-01T00:00:00.000Z', 'http://prometheus:9090/graph?g0.expr=up']) assert.ok(ev.fact.includes(s), `${s} in ${ev.fact}`);

    // Re-sent unchanged: nothing changes.
    const again = d.advance(1000).pass(withAlerts(d, { web: [alert('HighErrorRate')] }));
    assert.equal(again.tickets.length, 0);
    // Resolved in Alertmanager: the finding is gone and the ticket resolves.
    d.advance(1000).pass(withAlerts(d, {}));
    assert.equal(d.ticket(t.id).status, 'resolved');
    assert.equal(d.ticket(t.id).reason, 'recovered without action');
  });

  it('a cause label from the taxonomy with a runbook for it: the runbook is the repair', () => {
    const d = new Driver(makeConfig({ override: { web: { runbooks: [runbook('flush', ['resource_exhausted'])] } } }));
    d.pass();
    const out = d.advance(100).pass(withAlerts(d, { web: [alert('DiskFull', { labels: { alertname: 'DiskFull', service: 'web', cause: 'resource_exhausted' } })] }));
    const t = d.onlyTicket();
    assert.equal(t.cause, 'resource_exhausted');
    assert.deepEqual(out.execute.map((id) => [d.action(id).type, d.action(id).target, d.action(id).params.runbook]), [['run-runbook', 'web', 'flush']]);
  });
});

describe('alerts join the dependency-aware tickets', () => {
  it('an alert on a dependent while its dependency is down is a symptom on the dependency\'s ticket', () => {
    const d = new Driver(makeConfig());
    d.pass();
    d.advance(100).pass(withAlerts(d, { web: [alert('HighErrorRate')] }, { cache: dead() }));
    const t = d.onlyTicket();
    assert.equal(t.service, 'cache');
    assert.equal(t.cause, 'process_exited');
    assert.deepEqual(t.findings.map((f) => [f.service, f.kind, f.dependencyDown]), [
      ['cache', 'missing_service', undefined], ['web', 'unresolved_incident', 'cache'],
    ]);
    assert.ok(t.diagnosis!.evidence.some((e) => e.source === 'alert:HighErrorRate'), 'the dependent\'s alert is evidence on the root\'s ticket');
  });

  it('an alert on a dependency is the root of its dependents\' failing checks', () => {
    const d = new Driver(makeConfig());
    d.pass();
    d.advance(100).pass(withAlerts(d, { cache: [alert('CacheEvictions', { labels: { alertname: 'CacheEvictions', service: 'cache' } })] }, { web: { process: running(), checks: 'failing' } }));
    const t = d.onlyTicket();
    assert.equal(t.service, 'cache');
    assert.deepEqual(t.findings.map((f) => [f.service, f.kind]), [['cache', 'unresolved_incident'], ['web', 'unhealthy_service']]);
  });
});
