// Probe plugin `http`: GET a URL; healthy on the expected status (and body match).
import { z } from 'zod';
import { bodyMatch, show } from '../../config/fields.js';
import { defineProbe } from '../probe.js';
import { remoteHttp } from '../remote.js';
import { http, type HttpProbeSpec } from './http.js';

export default defineProbe({
  name: 'http',
  description: 'GETs a URL; healthy when the status (and optionally the body) is as expected',
  config: z.strictObject({
    url: z.url({ protocol: /^https?$/, error: (iss) => `expected an http:// or https:// URL; got ${show(iss.input)}` }),
    expectStatus: z.int().min(100).max(599).default(200),
    bodyMatch: bodyMatch.optional(),
  }),
  compile: (c) => {
    const spec: Omit<HttpProbeSpec, 'type'> = { url: c.url, expectStatus: c.expectStatus };
    if (c.bodyMatch !== undefined) spec.bodyMatch = c.bodyMatch;
    return spec;
  },
  prerequisites: [],
  run: http,
  remote: remoteHttp,
  target: (s) => s.url,
  endpoint: (s) => {
    const u = new URL(s.url);
    return { host: u.hostname, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
  },
});
