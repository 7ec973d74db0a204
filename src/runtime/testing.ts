// Test fixtures for the API and diagnostics tests: a real Store in a temp directory holding one
// incident (web died, restarted, verified) and a config with an API section. Not imported by
// production code.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeConfig, T0 } from '../testing/domain.js';
import type { Action, ApiSpec, CheckState, ResolvedConfig, Ticket } from '../domain/types.js';
import { Store } from '../store/store.js';

export const TOKEN = 's3cret-token-for-tests';

export interface Fixture {
  dir: string;
  config: ResolvedConfig;
  store: Store;
  cleanup(): void;
}

export function ticket(over: Partial<Ticket> = {}): Ticket {
  return {
    id: 'T1', fingerprint: 'local/web', status: 'resolved', service: 'web', host: 'local',
    findings: [{ kind: 'missing_service', service: 'web', host: 'local', reason: 'web is not running (exited with signal SIGKILL)' }],
    cause: 'process_exited', rootCause: { service: 'web', host: 'local', cause: 'process_exited' }, confidence: 0.95,
    occurrences: 1, flapping: false, openedAt: T0 + 1000, diagnosedAt: T0 + 1001, resolvedAt: T0 + 2000, updatedAt: T0 + 2000,
    actionIds: ['A2'], diagnosis: null, verification: null, reason: null, failedRepairs: 0, ...over,
  };
}

export function action(over: Partial<Action> = {}): Action {
  return {
    id: 'A2', ticketId: 'T1', type: 'restart', target: 'web', params: {}, state: 'completed', attempts: 1, maxAttempts: 3,
    idempotencyKey: 'T1/restart/web/1', requestedBy: 'otto', approvedBy: null, createdAt: T0 + 1002, startedAt: T0 + 1003,
    finishedAt: T0 + 1100, notBefore: null, error: null, ...over,
  };
}

/** An API spec on loopback with the config's defaults: plain HTTP, 64 connections. */
export function apiSpec(over: Partial<ApiSpec> = {}): ApiSpec {
  return { host: '127.0.0.1', port: 0, tokenFile: null, allowRemote: false, tls: null, insecureReason: null, maxConnections: 64, tokens: [], publicUrl: null, ...over };
}

/** A store with: a deploy start of web and cache, web killed, one resolved ticket with its restart. */
export function makeFixture(o: { tokenFile?: boolean } = {}): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'warden-api-'));
  const tokenFile = join(dir, 'token');
  if (o.tokenFile ?? true) writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const config = makeConfig({ agent: { dataDir: join(dir, 'data'), api: apiSpec({ tokenFile }) } });
  const store = Store.open(config.agent.dataDir);
  store.transaction(() => {
    store.putAction(action({ id: 'A1', ticketId: null, type: 'start', target: 'web', idempotencyKey: 'deploy/web', createdAt: T0, startedAt: T0, finishedAt: T0 + 50 }));
    store.putAction(action({ id: 'A3', ticketId: null, type: 'start', target: 'cache', idempotencyKey: 'deploy/cache', createdAt: T0, startedAt: T0, finishedAt: T0 + 50 }));
    store.putTicket(ticket());
    store.putAction(action());
    store.addExit('web', { at: T0 + 990, code: null, signal: 'SIGKILL', uptimeMs: 940 });
    store.putServiceState({ name: 'web', host: 'local', health: 'healthy', since: T0 + 1100, detail: 'all checks pass' });
    store.putServiceState({ name: 'cache', host: 'local', health: 'healthy', since: T0 + 50, detail: 'all checks pass' });
  });
  return {
    dir, config, store,
    cleanup: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function liveCheck(over: Partial<CheckState> = {}): CheckState {
  return {
    id: 'tcp#0', type: 'tcp', healthy: true, consecutiveFailures: 0, consecutiveSuccesses: 7,
    last: { ok: true, message: 'connected in 0 ms', latencyMs: 0.4, timedOut: false, at: T0 + 5000 }, since: T0 + 1100, ...over,
  };
}
