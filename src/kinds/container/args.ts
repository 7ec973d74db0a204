// The podman command lines the container kinds run. One place, so what Warden asks of Podman can
// be read (and tested) without running it.
import type { ContainerRun } from '../../domain/types.js';
import { ACTION_LABEL, SERVICE_LABEL } from './inspect.js';

export interface CreateContext {
  service: string;
  /** The action creating it; null when none (a person's start without an action). */
  actionId: string | null;
  stopSignal: string;
  stopGraceMs: number;
  /** The pod it joins, if any. */
  pod?: string;
}

/** Global options before the subcommand: the runtime is chosen when a container is created. */
function global(c: ContainerRun): string[] {
  return c.runtime === null ? [] : ['--runtime', c.runtime];
}

/** `podman run -d ...`: creates and starts the container, labelled with who made it. */
export function runArgv(podman: string, c: ContainerRun, ctx: CreateContext): string[] {
  const hc = c.healthcheck;
  return [
    podman, ...global(c), 'run', '--detach', '--name', c.name,
    '--label', `${SERVICE_LABEL}=${ctx.service}`, '--label', `${ACTION_LABEL}=${ctx.actionId ?? ''}`,
    ...(ctx.pod !== undefined ? ['--pod', ctx.pod] : []),
    '--stop-signal', ctx.stopSignal, '--stop-timeout', String(seconds(ctx.stopGraceMs)),
    ...Object.entries(c.ulimits).flatMap(([k, v]) => ['--ulimit', `${k}=${v}`]),
    ...(c.memoryBytes !== null ? ['--memory', String(c.memoryBytes), '--memory-swap', String(c.memoryBytes)] : []),
    ...(c.network !== null ? ['--network', c.network] : []),
    ...c.ports.flatMap((p) => ['--publish', p]),
    ...Object.entries(c.env).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
    // Podman 4.3 takes no exec form here and runs the string with the container's sh: each item
    // is quoted, so it runs as the argv given. Warden runs the check itself (podman healthcheck
    // run), so Podman schedules nothing: without systemd it could not.
    ...(hc !== null ? [
      '--health-cmd', hc.command.map(shellQuote).join(' '), '--health-interval', 'disable',
      '--health-timeout', `${Math.max(1, Math.ceil(hc.timeoutMs / 1000))}s`, '--health-retries', String(hc.retries),
    ] : []),
    '--', c.image, ...c.command,
  ];
}

/** Podman's stop timeout is whole seconds; a grace under one second rounds up. */
export function seconds(ms: number): number {
  return Math.max(0, Math.ceil(ms / 1000));
}

/** One argv item for sh: in single quotes, each ' written as '\''. */
export function shellQuote(arg: string): string {
  return `'${arg.replaceAll("'", "'\\''")}'`;
}
