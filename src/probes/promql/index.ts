// Probe plugin `promql`: a PromQL expression evaluated by Prometheus, alert-style — the check fails
// while `expr` returns series that have held for `for`, like a Prometheus alerting rule.
import { z } from 'zod';
import { duration, show } from '../../config/fields.js';
import { parseDuration } from '../../lib/duration.js';
import { defineProbe } from '../probe.js';
import { promql, type PromqlProbeSpec } from './promql.js';

/** Where Prometheus listens when installed with its defaults. */
export const DEFAULT_URL = 'http://127.0.0.1:9090';

export default defineProbe({
  name: 'promql',
  description: 'asks Prometheus for expr, alert-style: fails while expr returns series that have held for `for`',
  config: z.strictObject({
    url: z
      .url({ protocol: /^https?$/, error: (iss) => `expected Prometheus's http:// or https:// base URL, e.g. ${DEFAULT_URL}; got ${show(iss.input)}` })
      .default(DEFAULT_URL)
      .meta({ description: `Prometheus's base URL (a path prefix is kept); default ${DEFAULT_URL}. A YAML anchor shares one across checks.` }),
    expr: z
      .string()
      .trim()
      .min(1, { error: 'expected a PromQL expression that selects the bad condition, e.g. queue_depth > 100' })
      .meta({ description: 'PromQL selecting the bad condition, as in an alerting rule, e.g. rate(errors_total[1m]) > 5: the check fails while it returns series.' }),
    for: duration({ positive: false }).default('0s').meta({ description: 'How long a series must keep being returned before the check fails (pending until then); 0s: at once.' }),
  }),
  compile: (c) => ({ url: c.url, expr: c.expr, forMs: parseDuration(c.for) }),
  // Prometheus may run anywhere; whether it answers is the check's result, not a prerequisite.
  prerequisites: [],
  run: (spec: PromqlProbeSpec, timeoutMs: number) => promql(spec, timeoutMs),
  // A query goes to Prometheus over the network, from Warden, whichever host the service is on.
  remote: 'from-warden',
  target: (s) => `${s.expr} at ${s.url}`,
  endpoint: (s) => {
    const u = new URL(s.url);
    return { host: u.hostname, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
  },
});
