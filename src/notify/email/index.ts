// Channel plugin `email`: mail over SMTP through nodemailer. Every message about one problem has
// the same thread (References: <fingerprint@agent.warden>), so a mail client shows one
// conversation per incident, opened to resolved. A 4xx SMTP reply or a lost connection may pass
// later; a 5xx reply (no such mailbox, relay denied) is final.
import { createHash } from 'node:crypto';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { z } from 'zod';
import type { EmailChannel } from '../../domain/types.js';
import { defineChannel } from '../channel.js';
import { headline, type DeliveryResult, type NotifyEvent } from '../event.js';
import { factsOf, linksOf, secret } from '../fields.js';

const address = z.string().regex(/^[^\s@<>]+@[^\s@<>]+$/, { error: 'expected a mail address, e.g. ops@example.com' });

export function mailOf(channel: Pick<EmailChannel, 'from' | 'to'>, e: NotifyEvent, linkBase: string | null = null): SendMailOptions {
  const thread = e.key !== null ? `<${createHash('sha256').update(e.key).digest('hex').slice(0, 32)}@${e.agent}.warden>` : null;
  const text = [
    e.summary, '',
    ...factsOf(e).map(([k, v]) => `${k}: ${v}`), `At: ${e.at}`,
    ...linksOf(e, linkBase).map((l) => `${l.label}: ${l.url}`),
  ].join('\n');
  return {
    from: channel.from,
    to: channel.to,
    subject: headline(e).slice(0, 200),
    text,
    headers: { 'X-Warden-Event': e.kind, 'X-Warden-Severity': e.severity, ...(e.key !== null ? { 'X-Warden-Key': e.key } : {}) },
    ...(thread !== null ? { references: [thread], inReplyTo: thread } : {}),
  };
}

export async function deliverMail(channel: EmailChannel, e: NotifyEvent, signal: AbortSignal): Promise<DeliveryResult> {
  const transport = nodemailer.createTransport({
    host: channel.host, port: channel.port, secure: channel.secure,
    ...(channel.user !== null ? { auth: { user: channel.user, pass: channel.password ?? '' } } : {}),
    connectionTimeout: channel.timeoutMs, greetingTimeout: channel.timeoutMs, socketTimeout: channel.timeoutMs,
  });
  // nodemailer takes no AbortSignal: closing the transport ends the attempt.
  const abort = (): void => transport.close();
  signal.addEventListener('abort', abort, { once: true });
  try {
    const info = await transport.sendMail(mailOf(channel, e)) as { rejected?: unknown[] };
    if ((info.rejected ?? []).length > 0) return { ok: false, status: null, error: `rejected recipients: ${(info.rejected ?? []).map(String).join(', ')}`, retryable: false };
    return { ok: true, status: 250, error: null, retryable: false };
  } catch (err) {
    const code = (err as { responseCode?: unknown }).responseCode;
    const status = typeof code === 'number' ? code : null;
    const message = signal.aborted ? 'no answer in time' : err instanceof Error ? err.message : String(err);
    return { ok: false, status, error: `SMTP ${channel.host}:${channel.port}: ${message}`, retryable: status === null || status < 500 };
  } finally {
    signal.removeEventListener('abort', abort);
    transport.close();
  }
}

export default defineChannel({
  name: 'email',
  description: 'mail over SMTP (nodemailer), one thread per problem',
  config: z.strictObject({
    host: z.string().min(1).meta({ description: 'The SMTP server, e.g. smtp.example.com or 127.0.0.1.' }),
    port: z.int().min(1).max(65535).default(587),
    secure: z.boolean().default(false).meta({ description: 'TLS from the first byte (port 465); otherwise STARTTLS is used when the server offers it.' }),
    user: z.string().min(1).optional(),
    password: secret('the SMTP password').optional(),
    from: address,
    to: z.union([address, z.array(address).min(1)]).transform((v) => (Array.isArray(v) ? v : [v])),
  }),
  compile: (c) => ({ host: c.host, port: c.port, secure: c.secure, user: c.user ?? null, password: c.password ?? null, from: c.from, to: [...c.to] }),
  prerequisites: [],
  deliver: deliverMail,
  secrets: (c) => (c.password !== null ? ['email password'] : []),
});
