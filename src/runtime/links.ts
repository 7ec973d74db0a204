// Approval links: a notification that asks for approval carries, for each person who may approve,
// an approve and a reject link that act as that person without a token or a shell. A link is
// signed (HMAC-SHA256 with a key kept in the data directory, mode 0600), bound to one action and one
// approver, expires with the request, and is used once: the pair of links of one approver shares a
// use key that the decision marks, in the same transaction (app/commands.ts), so neither a replay nor
// the other link of the pair decides twice.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Action, Person } from '../domain/types.js';
import { WardenError } from '../lib/errors.js';
import { octal } from '../lib/private.js';

export const LINK_KEY_FILE = 'link.key';

export type LinkVerb = 'approve' | 'reject';

/** What a link says: who decides what on which action, until when (wall ms). */
export interface LinkClaims {
  action: string;
  by: string;
  verb: LinkVerb;
  exp: number;
}

export class LinkKeyError extends WardenError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LINK_KEY', message, options);
  }
}

/**
 * The data directory's link key, created (32 random bytes, mode 0600) when there is none yet.
 * A key others can read is refused: anyone who reads it can approve as anyone.
 */
export function linkKey(dataDir: string): Buffer {
  const file = join(dataDir, LINK_KEY_FILE);
  try {
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new LinkKeyError(`cannot create ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}): approval links need it`, { cause: e });
  }
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) throw new LinkKeyError(`${file} is mode ${octal(mode)}: other users could sign approval links with it; chmod 600 ${file}`);
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  if (key.length < 32) throw new LinkKeyError(`${file} holds no key of 32 bytes; delete it and Warden makes a new one (links already sent stop working)`);
  return key;
}

const mac = (key: Buffer, body: string): Buffer => createHmac('sha256', key).update(`warden-link.${body}`).digest();

/** The token of one link: base64url(JSON claims) "." base64url(HMAC). */
export function signLink(key: Buffer, c: LinkClaims): string {
  const body = Buffer.from(JSON.stringify([c.action, c.by, c.verb, c.exp])).toString('base64url');
  return `${body}.${mac(key, body).toString('base64url')}`;
}

/** The claims of a token this key signed, or why it is refused (forged, damaged). */
export function verifyLink(key: Buffer, token: string): LinkClaims | { refused: string } {
  const [body, sig, extra] = token.split('.');
  if (body === undefined || sig === undefined || extra !== undefined) return { refused: 'not an approval link (damaged or cut short)' };
  const want = mac(key, body);
  const got = Buffer.from(sig, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return { refused: 'the link is not signed by this Warden (forged, or its key was replaced)' };
  try {
    const [action, by, verb, exp] = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown[];
    if (typeof action === 'string' && typeof by === 'string' && (verb === 'approve' || verb === 'reject') && typeof exp === 'number') return { action, by, verb, exp };
  } catch {
    // a signed body that does not parse: only a key from another version could make one
  }
  return { refused: 'not an approval link (its content is not understood)' };
}

/** The use key of an approver's pair of links: one decision per approver per action. */
export function linkUse(c: Pick<LinkClaims, 'action' | 'by'>): string {
  return `${c.action}/${c.by}`;
}

/**
 * Who gets links for an action awaiting approval: the named approvers, the members of approver
 * roles, or, when anyone may approve, every person listed; never its requester, and never a token
 * (tokens decide through the API).
 */
export function linkApprovers(a: Action, people: readonly Person[]): string[] {
  const req = a.approval;
  if (a.state !== 'awaiting_approval' || !req) return [];
  const names = req.approvers.length === 0 ? people.map((p) => p.name) : req.approvers.flatMap((x) => {
    if (x.startsWith('role:')) return people.filter((p) => p.roles.includes(x.slice(5))).map((p) => p.name);
    if (x.startsWith('token:')) return [];
    return [x.replace(/^person:/, '')];
  });
  return [...new Set(names.map((n) => `person:${n}`))].filter((by) => by !== a.requestedBy && !req.by.includes(by));
}

export interface ApprovalLink {
  by: string;
  approve: string;
  reject: string;
}

/** The links for an action awaiting approval, under the API's public URL. */
export function approvalLinks(a: Action, people: readonly Person[], publicUrl: string, key: Buffer): ApprovalLink[] {
  const base = publicUrl.replace(/\/+$/, '');
  const exp = a.approval?.expiresAt ?? 0;
  const url = (by: string, verb: LinkVerb): string => `${base}/links/${encodeURIComponent(a.id)}/${signLink(key, { action: a.id, by, verb, exp })}`;
  return linkApprovers(a, people).map((by) => ({ by, approve: url(by, 'approve'), reject: url(by, 'reject') }));
}
