// Alertmanager's webhook payload (version 4), as it arrives at POST /api/alerts: validated with zod
// into the domain's IncomingAlert, or refused with a message that names the field. Unknown fields
// are ignored (Alertmanager adds some over time); the ones Warden uses must be right.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { IncomingAlert } from '../domain/alerts.js';
import { WardenError } from '../lib/errors.js';

/** Alerts in one delivery at most (Alertmanager's max_alerts caps it too; 0 there means no cap). */
export const MAX_ALERTS = 1000;
/** The largest body taken: a thousand alerts with generous labels fit. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

const text = z.string({ error: (iss) => `expected a string, got ${iss.input === undefined ? 'nothing' : JSON.stringify(iss.input)}` });
const pairs = z.record(z.string(), text, { error: 'expected an object of string values' });
const instant = text.refine((s) => !Number.isNaN(Date.parse(s)), { error: (iss) => `expected an RFC 3339 time such as 2025-01-01T00:00:00Z, got ${JSON.stringify(iss.input)}` });
const status = z.enum(['firing', 'resolved'], { error: (iss) => `expected "firing" or "resolved", got ${JSON.stringify(iss.input)}` });

const alertSchema = z.object({
  status,
  labels: pairs,
  annotations: pairs.default({}),
  startsAt: instant,
  endsAt: text.optional(),
  generatorURL: text.default(''),
  fingerprint: text.min(1).optional(),
});

const payloadSchema = z.object({
  version: z.literal('4', { error: (iss) => `expected "4" (Alertmanager's webhook format), got ${JSON.stringify(iss.input)}` }),
  status,
  receiver: text.optional(),
  alerts: z.array(alertSchema, { error: 'expected a list of alerts' }).max(MAX_ALERTS, { error: `at most ${MAX_ALERTS} alerts per delivery; set max_alerts in Alertmanager's webhook_config` }),
});

/** The payload is not an Alertmanager webhook delivery: what is wrong, where (a JSON path). */
export class AlertPayloadError extends WardenError {
  constructor(message: string, readonly issues: string[]) {
    super('bad_payload', message);
  }
}

function where(path: readonly PropertyKey[]): string {
  return path.reduce<string>((s, p) => typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${String(p)}` : String(p), '') || 'the body';
}

/** Alertmanager computes the fingerprint from the labels; an alert without one gets the same kind. */
export function labelsFingerprint(labels: Readonly<Record<string, string>>): string {
  const sorted = Object.keys(labels).sort().map((k) => [k, labels[k]]);
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

/** A request body → its alerts; throws AlertPayloadError naming every field that is wrong. */
export function parseAlertmanager(body: string): IncomingAlert[] {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (e) {
    throw new AlertPayloadError(`the body is not JSON (${(e as Error).message}); send Alertmanager's webhook payload`, []);
  }
  const r = payloadSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 20).map((i) => `${where(i.path)}: ${i.message}`);
    throw new AlertPayloadError(`not an Alertmanager webhook payload (version 4): ${issues.join('; ')}`, issues);
  }
  return r.data.alerts.map((a) => ({
    status: a.status,
    fingerprint: a.fingerprint ?? labelsFingerprint(a.labels),
    name: a.labels.alertname ?? '(no alertname)',
    labels: a.labels,
    annotations: a.annotations,
    startsAt: a.startsAt,
    generatorURL: a.generatorURL,
  }));
}
