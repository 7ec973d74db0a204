// Which events reach which channel, and when: routing by kind, severity, service and labels, and
// quiet hours. Pure (the time of day is an argument), so every rule is tested on fixed times.
import { globMatch } from '../domain/policy.js';
import type { NotifyChannel } from '../domain/types.js';
import { isEscalation, severityAtLeast, type NotifyEvent } from './event.js';

/** Does the channel want this event, by its filters alone? (A resolve also goes where its problem went: outbox.ts.) */
export function routes(channel: NotifyChannel, e: NotifyEvent, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (!channel.events.includes('*') && !channel.events.includes(e.kind)) return false;
  if (!severityAtLeast(e.severity, channel.route.severity)) return false;
  // Events about Warden itself name no service: a service filter never mutes them.
  if (e.service === null) return true;
  if (channel.route.services.length > 0 && !channel.route.services.some((g) => globMatch(g, e.service!))) return false;
  return Object.entries(channel.route.labels).every(([k, g]) => labels?.[k] !== undefined && globMatch(g, labels[k]!));
}

/** Minutes since local midnight in `timezone` (the host's zone when null). */
export function minuteOfDay(wall: number, timezone: string | null): number {
  if (timezone === null) {
    const d = new Date(wall);
    return d.getHours() * 60 + d.getMinutes();
  }
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(wall));
  const n = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return n('hour') * 60 + n('minute');
}

/**
 * When quiet hours hold this event back: the wall time they end, or null when it may go now (no
 * quiet hours, outside them, or an escalation or critical event, which always passes).
 */
export function quietUntil(channel: NotifyChannel, e: Pick<NotifyEvent, 'kind' | 'severity'>, wall: number): number | null {
  const q = channel.quietHours;
  if (q === null || isEscalation(e) || q.from === q.to) return null;
  const m = minuteOfDay(wall, q.timezone);
  const inside = q.from < q.to ? m >= q.from && m < q.to : m >= q.from || m < q.to;
  if (!inside) return null;
  const left = (q.to - m + 24 * 60) % (24 * 60);
  // To the start of the minute quiet hours end at.
  return wall - (wall % 60_000) + left * 60_000;
}
