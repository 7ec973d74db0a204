// Incidents in: alerts from Alertmanager as the domain sees them. Pure: which service an alert's
// labels name, which alerts still fire, what a receipt changes and records, and how a firing alert
// shows in a service's health and findings. The runtime (loop/alerts.ts) keeps them and feeds the
// firing ones into the World, so detection stays a function of (inventory, world, tickets).
import type { AuditIntent } from './audit.js';
import { elapsed, stampOf, type Instant } from './elapsed.js';
import type { AlertFacts, AlertRecord, AlertsSpec, Finding, Health, ResolvedConfig } from './types.js';

interface ServiceHealth { health: Health; reason: string }

/**
 * `service` first (a label set for Warden), then Prometheus's own `job` and `instance`. Five hours
 * outlast Alertmanager's default repeat_interval (4h), the longest a firing alert goes unsent.
 */
export const DEFAULT_ALERTS: AlertsSpec = { labels: ['service', 'job', 'instance'], expireAfterMs: 5 * 3_600_000 };

export function alertsSpecOf(config: ResolvedConfig): AlertsSpec {
  return config.alerts ?? DEFAULT_ALERTS;
}

/** One alert of a webhook payload, validated (runtime/alertmanager.ts), fingerprint always set. */
export interface IncomingAlert extends AlertFacts {
  status: 'firing' | 'resolved';
}

export type Placement = { service: string; label: string } | { unmatched: string };

/**
 * The service an alert is about: the first label of the mapping whose value is a service's name.
 * An `instance` is usually host:port, so its host part counts too.
 */
export function placeAlert(labels: Readonly<Record<string, string>>, spec: AlertsSpec, services: ReadonlySet<string>): Placement {
  for (const label of spec.labels) {
    const v = labels[label];
    if (v === undefined) continue;
    if (services.has(v)) return { service: v, label };
    const host = /^(.+):\d+$/.exec(v)?.[1];
    if (host !== undefined && services.has(host)) return { service: host, label };
  }
  const present = spec.labels.filter((l) => labels[l] !== undefined).map((l) => `${l}=${JSON.stringify(labels[l])}`);
  return {
    unmatched: present.length === 0
      ? `it has none of the labels ${spec.labels.join(', ')} (alerts.labels)`
      : `${present.join(', ')} names no service in the inventory; add a "service" label naming one, or map another label in alerts.labels`,
  };
}

/** Received again within expireAfter: Alertmanager still says it fires. */
export function isLive(a: AlertRecord, now: Instant, spec: AlertsSpec): boolean {
  return elapsed(now, a.receivedAt, a.received) <= spec.expireAfterMs;
}

/** What a finding carries: the alert without when it last came (a re-send must not change a ticket). */
export function factsOf(a: AlertFacts): AlertFacts {
  return { fingerprint: a.fingerprint, name: a.name, labels: a.labels, annotations: a.annotations, startsAt: a.startsAt, generatorURL: a.generatorURL };
}

/** Oldest first, then by fingerprint: the same alerts give the same findings in the same order. */
function byStart(a: AlertFacts, b: AlertFacts): number {
  return a.startsAt.localeCompare(b.startsAt) || a.fingerprint.localeCompare(b.fingerprint);
}

/** The live alerts placed on services of the inventory as it is now (a reload may move them). */
export function firingByService(held: Iterable<AlertRecord>, config: ResolvedConfig, now: Instant): Record<string, AlertFacts[]> {
  const spec = alertsSpecOf(config);
  const names = new Set(config.services.map((s) => s.name));
  const out: Record<string, AlertFacts[]> = {};
  for (const a of held) {
    if (!isLive(a, now, spec)) continue;
    const p = placeAlert(a.labels, spec, names);
    if ('service' in p) (out[p.service] ??= []).push(factsOf(a));
  }
  for (const list of Object.values(out)) list.sort(byStart);
  return out;
}

export interface UnmatchedAlert {
  alert: string;
  fingerprint: string;
  labels: Record<string, string>;
  startsAt: string;
  receivedAt: number;
  reason: string;
}

/** The live alerts that name nothing in the inventory: reported, never dropped. */
export function unmatchedAlerts(held: Iterable<AlertRecord>, config: ResolvedConfig, now: Instant): UnmatchedAlert[] {
  const spec = alertsSpecOf(config);
  const names = new Set(config.services.map((s) => s.name));
  const out: UnmatchedAlert[] = [];
  for (const a of [...held].sort(byStart)) {
    if (!isLive(a, now, spec)) continue;
    const p = placeAlert(a.labels, spec, names);
    if ('unmatched' in p) out.push({ alert: a.name, fingerprint: a.fingerprint, labels: a.labels, startsAt: a.startsAt, receivedAt: a.receivedAt, reason: p.unmatched });
  }
  return out;
}

export function alertFinding(a: AlertFacts, service: string, host: string): Finding {
  const summary = a.annotations.summary ?? a.annotations.description;
  return { kind: 'unresolved_incident', service, host, reason: `alert ${a.name} firing since ${a.startsAt}${summary ? `: ${summary}` : ''}`, alert: factsOf(a) };
}

/**
 * A service an alert fires on is unhealthy, however its own checks read: Alertmanager sees what they
 * do not. Missing stays missing (the more specific word); the alert is its own finding either way.
 */
export function withAlerts(h: ServiceHealth, alerts: readonly AlertFacts[] | undefined): ServiceHealth {
  const first = alerts?.[0];
  if (!first || h.health === 'missing' || h.health === 'unhealthy') return h;
  const more = alerts.length > 1 ? ` (and ${alerts.length - 1} more)` : '';
  return { health: 'unhealthy', reason: `alert ${first.name} firing since ${first.startsAt}${more}` };
}

export interface AlertReceipt {
  received: number;
  firing: { alert: string; fingerprint: string; service: string; label: string }[];
  resolved: { alert: string; fingerprint: string; service: string | null }[];
  unmatched: { alert: string; fingerprint: string; labels: Record<string, string>; reason: string }[];
}

export interface AlertChanges {
  /** Records to write (new alerts, and re-sends: their receivedAt moves). */
  put: AlertRecord[];
  /** Fingerprints to forget (resolved, or expired). */
  remove: string[];
  /** Only what changed is audited: a re-send of a firing alert is not news. */
  audit: AuditIntent[];
}

/** What one webhook delivery changes; `held` is every alert kept now. */
export function receiveAlerts(held: ReadonlyMap<string, AlertRecord>, incoming: readonly IncomingAlert[], config: ResolvedConfig, now: Instant): AlertChanges & { receipt: AlertReceipt } {
  const spec = alertsSpecOf(config);
  const names = new Set(config.services.map((s) => s.name));
  const changes = expiredAlerts(held, config, now);
  const receipt: AlertReceipt = { received: incoming.length, firing: [], resolved: [], unmatched: [] };
  for (const a of incoming) {
    const p = placeAlert(a.labels, spec, names);
    const service = 'service' in p ? p.service : null;
    const facts = factsOf(a);
    const known = held.get(a.fingerprint);
    const wasLive = known !== undefined && !changes.remove.includes(a.fingerprint);
    const data = { fingerprint: a.fingerprint, alert: a.name, service, labels: a.labels, annotations: a.annotations, startsAt: a.startsAt, generatorURL: a.generatorURL };
    if (a.status === 'resolved') {
      receipt.resolved.push({ alert: a.name, fingerprint: a.fingerprint, service });
      if (!known) continue;
      if (!changes.remove.includes(a.fingerprint)) changes.remove.push(a.fingerprint);
      if (wasLive) changes.audit.push({ kind: 'alert.resolved', subject: service, data });
      continue;
    }
    changes.put.push({ ...facts, receivedAt: now.wall, received: stampOf(now) });
    changes.remove = changes.remove.filter((f) => f !== a.fingerprint);
    if ('service' in p) receipt.firing.push({ alert: a.name, fingerprint: a.fingerprint, service: p.service, label: p.label });
    else receipt.unmatched.push({ alert: a.name, fingerprint: a.fingerprint, labels: a.labels, reason: p.unmatched });
    if (wasLive && JSON.stringify(factsOf(known)) === JSON.stringify(facts)) continue;
    changes.audit.push('service' in p
      ? { kind: 'alert.firing', subject: p.service, data: { ...data, label: p.label } }
      : { kind: 'alert.unmatched', subject: null, data: { ...data, reason: p.unmatched } });
  }
  return { ...changes, receipt };
}

/** Alerts not received again within expireAfter: forgotten, and audited once. */
export function expiredAlerts(held: ReadonlyMap<string, AlertRecord>, config: ResolvedConfig, now: Instant): AlertChanges {
  const spec = alertsSpecOf(config);
  const out: AlertChanges = { put: [], remove: [], audit: [] };
  for (const a of held.values()) {
    if (isLive(a, now, spec)) continue;
    out.remove.push(a.fingerprint);
    out.audit.push({ kind: 'alert.expired', subject: null, data: { fingerprint: a.fingerprint, alert: a.name, labels: a.labels, lastReceivedAt: new Date(a.receivedAt).toISOString(), expireAfterMs: spec.expireAfterMs } });
  }
  return out;
}
