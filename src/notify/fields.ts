// Config fields the channels share, and the parts of a message several providers show the same way.
import { z } from 'zod';
import { show } from '../config/fields.js';
import type { Severity } from '../domain/types.js';
import type { NotifyEvent } from './event.js';

export const httpUrl = z.url({ protocol: /^https?$/, error: (iss) => `expected an http(s) URL; got ${show(iss.input)}` });

/** A secret: a non-empty string (it also may come from the environment: "${env:NAME}" is not expanded here). */
export const secret = (what: string) => z.string({ error: (iss) => `expected ${what} (a string); got ${show(iss.input)}` }).min(1, { error: `expected ${what}; got an empty string` });

/** Links people follow from a message: the ticket, and approve/reject (per approver) when the event carries them. */
export function linksOf(e: NotifyEvent, linkBase: string | null): { label: string; url: string; style?: 'primary' | 'danger' }[] {
  const out: { label: string; url: string; style?: 'primary' | 'danger' }[] = [];
  // Several approvers: a pair each, named (a link acts as its approver).
  const approvals = Array.isArray(e.data.approvals) ? (e.data.approvals as { by?: unknown; approve?: unknown; reject?: unknown }[]) : [];
  if (approvals.length > 1) {
    for (const a of approvals) {
      const who = typeof a.by === 'string' ? a.by.replace(/^person:/, '') : '?';
      if (typeof a.approve === 'string') out.push({ label: `Approve as ${who}`, url: a.approve, style: 'primary' });
      if (typeof a.reject === 'string') out.push({ label: `Reject as ${who}`, url: a.reject, style: 'danger' });
    }
  } else {
    const links = (e.data.links ?? {}) as { approve?: unknown; reject?: unknown };
    if (typeof links.approve === 'string') out.push({ label: 'Approve', url: links.approve, style: 'primary' });
    if (typeof links.reject === 'string') out.push({ label: 'Reject', url: links.reject, style: 'danger' });
  }
  const ticket = ticketOf(e);
  if (linkBase !== null && ticket !== null) out.push({ label: `Ticket ${ticket}`, url: `${linkBase.replace(/\/+$/, '')}/api/tickets/${encodeURIComponent(ticket)}` });
  return out;
}

/** The ticket an event concerns: its subject, or the ticket an action belongs to. */
export function ticketOf(e: NotifyEvent): string | null {
  if (typeof e.data.ticket === 'string') return e.data.ticket;
  return e.subject !== null && /^T\d+$/.test(e.subject) ? e.subject : null;
}

export const EMOJI: Record<Severity, string> = { info: 'ℹ️', warning: '⚠️', critical: '🚨' };
export const COLOR: Record<Severity, string> = { info: '#2eb67d', warning: '#ecb22e', critical: '#e01e5a' };

/** The facts shown beside the summary, in a fixed order. */
export function factsOf(e: NotifyEvent): [string, string][] {
  const f: [string, string][] = [['Event', e.kind], ['Severity', e.severity]];
  if (e.service !== null) f.push(['Service', e.service]);
  const ticket = ticketOf(e);
  if (ticket !== null) f.push(['Ticket', ticket]);
  if (typeof e.data.cause === 'string') f.push(['Cause', e.data.cause]);
  if (e.key !== null) f.push(['Key', e.key]);
  return f;
}
