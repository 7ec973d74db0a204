// Probe plugin `tcp`: healthy while host:port accepts connections (and, with `expect`, answers).
import { z } from 'zod';
import { tcpAddress } from '../../config/fields.js';
import { parseAddress } from '../../lib/address.js';
import { defineProbe } from '../probe.js';
import { remoteTcp } from '../remote.js';
import { tcp } from './tcp.js';

export default defineProbe({
  name: 'tcp',
  description: 'connects to host:port; healthy while it accepts connections, or with send/expect while the reply contains expect',
  config: z.strictObject({
    address: tcpAddress,
    send: z.string().min(1).optional().describe('written once connected (e.g. "PING\\r\\n")'),
    expect: z.string().min(1).optional().describe('healthy only when the reply contains this text (e.g. "+PONG")'),
  }),
  compile: (c) => ({ address: c.address, ...(c.send !== undefined ? { send: c.send } : {}), ...(c.expect !== undefined ? { expect: c.expect } : {}) }),
  prerequisites: [],
  run: tcp,
  remote: remoteTcp,
  target: (s) => s.address,
  endpoint: (s) => parseAddress(s.address),
});
