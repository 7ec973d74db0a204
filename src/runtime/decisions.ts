// Decisions from afar: POST /api/actions/ID/approve and /reject with a named token's identity, and
// approval links (/links/ACTION/TOKEN: a confirmation page, then a form POST). Both submit the same
// command a person submits at the CLI (app/commands.ts), so the same rules hold: approvers, quorum,
// no self-approval, expiry denies. Every refusal is audited: by app/commands.ts once a command
// exists, here when there is none (a token with no identity, a link that does not verify).
import type { Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Command, CommandResult } from '../app/commands.js';
import type { AuditIntent } from '../domain/audit.js';
import type { Action, Millis } from '../domain/types.js';
import { actionJson } from '../views/json.js';
import type { Caller } from './identity.js';
import { linkUse, verifyLink, type LinkClaims } from './links.js';

export interface DecisionDeps {
  /** Applies one command through the one writer (the daemon's queue) and says how it went. */
  submit: (cmd: Command) => Promise<CommandResult>;
  action: (id: string) => Action | null;
  /** The key approval links are signed with; null: links are not served. */
  linkKey: () => Buffer | null;
  audit: (actor: string, i: AuditIntent) => void;
  now: () => Millis;
}

// The API's guard (api.ts) names the caller of every authenticated request.
declare module 'hono' {
  interface ContextVariableMap { caller: Caller }
}

/** Command codes as HTTP statuses: refused by the rules is 403, a wrong state 409. */
const STATUS: Record<string, ContentfulStatusCode> = {
  NOT_FOUND: 404, INVALID_TRANSITION: 409, APPROVAL_REFUSED: 403, APPROVAL_EXPIRED: 403, LINK_USED: 403, WITHDRAWN: 503,
};

export function decisionRoutes(app: Hono, deps: DecisionDeps | undefined): void {
  for (const verb of ['approve', 'reject'] as const) {
    app.post(`/api/actions/:id/${verb}`, async (c) => {
      if (!deps) return c.json({ error: { code: 'not_found', message: 'this server takes no decisions' } }, 404);
      const id = c.req.param('id');
      const caller = c.get('caller');
      if (caller.by === null) {
        const reason = `the token of agent.api.tokenFile is nobody in particular and cannot ${verb}; give approvers named tokens (agent.api.tokens) and use theirs`;
        deps.audit('api', { kind: 'action.decision_refused', subject: id, data: { verb, via: 'token', code: 'NO_IDENTITY', reason } });
        return c.json({ error: { code: 'no_identity', message: reason } }, 403);
      }
      const reason = await reasonOf(c);
      const r = await deps.submit({ kind: verb, actionId: id, by: caller.by, via: `token:${caller.token ?? ''}`, ...(reason !== null ? { reason } : {}) });
      if (!r.ok) return c.json({ error: { code: r.code.toLowerCase(), message: r.message } }, STATUS[r.code] ?? 500);
      const a = deps.action(id);
      return c.json({ ok: true, message: r.message, action: a ? actionJson(a) : null });
    });
  }

  // The link is the credential: no bearer token (the guard lets /links/ through). GET only shows;
  // the form's POST decides, so a preview bot that fetches the link decides nothing.
  app.get('/links/:action/:token', (c) => {
    const checked = check(c, deps, false);
    if ('refused' in checked) return page(c, 403, 'Link refused', checked.refused);
    const { claims, action } = checked;
    const what = `${claims.verb === 'approve' ? 'Approve' : 'Reject'} action ${action.id} (${action.type} ${action.target}${action.ticketId ? `, ticket ${action.ticketId}` : ''})`;
    const req = action.approval;
    const facts = `as ${claims.by}; ${req ? `${req.by.length} of ${req.quorum} approvals so far; the request expires at ${new Date(req.expiresAt).toISOString()}` : ''}`;
    return page(c, 200, `${what}?`, facts, `<form method="post"><button type="submit">${claims.verb === 'approve' ? 'Approve' : 'Reject'}</button></form>`);
  });

  app.post('/links/:action/:token', async (c) => {
    const checked = check(c, deps, true);
    if ('refused' in checked) return page(c, 403, 'Link refused', checked.refused);
    const { claims } = checked;
    const r = await deps!.submit({ kind: claims.verb, actionId: claims.action, by: claims.by, via: 'link', link: linkUse(claims) });
    if (!r.ok) return page(c, STATUS[r.code] ?? 500, 'Refused', r.message);
    return page(c, 200, claims.verb === 'approve' ? 'Approved' : 'Rejected', r.message);
  });
}

async function reasonOf(c: Context): Promise<string | null> {
  if (!(c.req.header('content-type') ?? '').includes('json')) return null;
  const body = await c.req.json<unknown>().catch(() => null);
  const reason = typeof body === 'object' && body !== null ? (body as { reason?: unknown }).reason : undefined;
  return typeof reason === 'string' && reason !== '' ? reason.slice(0, 500) : null;
}

/** The link's claims and its action, or why it is refused (audited when `audit`: a decision was tried). */
function check(c: Context, deps: DecisionDeps | undefined, audit: boolean): { claims: LinkClaims; action: Action } | { refused: string } {
  const key = deps?.linkKey() ?? null;
  if (!deps || key === null) return { refused: 'this Warden serves no approval links (agent.api.publicUrl is not set)' };
  const id = c.req.param('action') ?? '';
  const v = verifyLink(key, c.req.param('token') ?? '');
  let refused: string | null = null;
  if ('refused' in v) refused = v.refused;
  else if (v.action !== id) refused = `the link is for action ${v.action}, not ${id}`;
  else if (deps.now() >= v.exp) refused = `the link expired at ${new Date(v.exp).toISOString()} with its approval request: it is denied`;
  const action = deps.action(id);
  if (refused === null && !action) refused = `no action ${id}`;
  if (refused !== null || !action || 'refused' in v) {
    const reason = refused ?? `no action ${id}`;
    const claims = 'refused' in v ? {} : { by: v.by, verb: v.verb, for: v.action };
    if (audit) deps.audit('refused' in v ? 'link' : v.by, { kind: 'link.refused', subject: id, data: { reason, ...claims } });
    return { refused: reason };
  }
  return { claims: v, action };
}

const esc = (s: string): string => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** A page with no script: what is asked or what happened, and at most a form that posts back here. */
function page(c: Context, status: ContentfulStatusCode, title: string, text: string, form = ''): Response {
  c.header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'");
  // The path is the credential: it must not travel in a Referer or sit in a cache.
  c.header('Referrer-Policy', 'no-referrer');
  c.header('Cache-Control', 'no-store');
  return c.html(`<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Warden: ${esc(title)}</title>`
    + '<style>body{font:16px system-ui,sans-serif;max-width:32em;margin:2em auto;padding:0 1em}button{font-size:1.2em;padding:.5em 2em}</style></head>'
    + `<body><h1>${esc(title)}</h1><p>${esc(text)}</p>${form}</body></html>\n`, status);
}
