// Probe plugin `tcp`: healthy while host:port accepts connections.
import { z } from 'zod';
import { tcpAddress } from '../../config/fields.js';
import { parseAddress } from '../../lib/address.js';
import { defineProbe } from '../probe.js';
import { tcp } from './tcp.js';

export default defineProbe({
  name: 'tcp',
  description: 'connects to host:port; healthy while it accepts connections',
  config: z.strictObject({ address: tcpAddress }),
  compile: (c) => ({ address: c.address }),
  prerequisites: [],
  run: tcp,
  target: (s) => s.address,
  endpoint: (s) => parseAddress(s.address),
});
