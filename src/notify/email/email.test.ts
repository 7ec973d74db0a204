// The email channel against a real SMTP server: Debian's exim4, run as a private daemon on a
// loopback port (src/testing/smtp.ts). The mail is read from the Maildir it delivered into.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EmailChannel } from '../../domain/types.js';
import { SMTP_DOMAIN, smtpUnavailable, startSmtp } from '../../testing/smtp.js';
import { waitFor } from '../../lib/wait.js';
import type { NotifyEvent } from '../event.js';
import { deliverMail } from './index.js';

const event = (kind: string, at: string): NotifyEvent => ({
  kind, agent: 'otto', at, subject: 'T7', key: 'fp-web-1', severity: kind === 'ticket.resolved' ? 'info' : 'warning', service: 'web',
  summary: `ticket T7 ${kind === 'ticket.resolved' ? 'resolved' : 'opened for web'}`, data: { fingerprint: 'fp-web-1' },
});

test('mail reaches a real SMTP server, one thread per problem; a refused recipient is final', { skip: smtpUnavailable() ?? false }, async (t) => {
  const smtp = await startSmtp();
  t.after(() => smtp.stop());
  const ch: EmailChannel = {
    name: 'mail', type: 'email', host: smtp.host, port: smtp.port, secure: false, user: null, password: null,
    from: `warden@${SMTP_DOMAIN}`, to: [`ops@${SMTP_DOMAIN}`], events: ['*'], timeoutMs: 5000, retries: 0, ttlMs: 60_000,
    route: { severity: 'info', services: [], labels: {} }, rateLimit: null, quietHours: null, digest: null, repeatMs: null, resolveHoldMs: 0,
  };
  const never = new AbortController().signal;
  assert.deepEqual(await deliverMail(ch, event('ticket.opened', '2025-01-01T12:00:00.000Z'), never), { ok: true, status: 250, error: null, retryable: false });
  assert.equal((await deliverMail(ch, event('ticket.resolved', '2025-01-01T12:05:00.000Z'), never)).ok, true);
  const mails = await waitFor(async () => (smtp.mails().length === 2 ? smtp.mails() : null), 10_000, 'two mails delivered');
  const header = (m: string, h: string): string | undefined => new RegExp(`^${h}: (.*)$`, 'mi').exec(m)?.[1];
  assert.deepEqual(mails.map((m) => header(m, 'Subject')), ['[otto] ticket T7 opened for web', '[otto] ticket T7 resolved']);
  assert.deepEqual(mails.map((m) => header(m, 'X-Warden-Key')), ['fp-web-1', 'fp-web-1']);
  assert.equal(header(mails[0]!, 'References'), header(mails[1]!, 'References'), 'both in the thread of the problem');
  assert.equal(header(mails[0]!, 'Envelope-to'), `ops@${SMTP_DOMAIN}`);
  assert.match(mails[0]!, /Key: fp-web-1/);

  const relay = await deliverMail({ ...ch, to: ['someone@elsewhere.example'] }, event('ticket.opened', '2025-01-01T12:00:00.000Z'), never);
  assert.equal(relay.ok, false);
  assert.equal(relay.retryable, false, 'a 5xx refusal is not retried');
  assert.match(relay.error ?? '', /relay not permitted/);
});
