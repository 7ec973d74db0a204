// Kind plugin `systemd`: a unit observed and driven through systemctl (and its journal).
import { z } from 'zod';
import { show } from '../../config/fields.js';
import { defineKind } from '../kind.js';
import { SystemdDriver } from './driver.js';

const UNIT = /^[a-zA-Z0-9:_.@\\-]+\.(service|timer|socket|target|mount|path)$/;

const fields = {
  unit: z.string().regex(UNIT, { error: (iss) => `expected a systemd unit name such as nginx.service or backup.timer; got ${show(iss.input)}` })
    .meta({ description: 'kind systemd: the unit, e.g. nginx.service or backup.timer.' }),
};

export default defineKind({
  name: 'systemd',
  description: 'a systemd unit, observed and driven through systemctl',
  fields,
  config: z.strictObject(fields),
  required: { unit: 'the unit to watch, e.g. unit: nginx.service' },
  hint: 'systemd starts a kind systemd service (unit: ...)',
  compile: (c) => ({ unit: c.unit, start: [] }),
  prerequisites: [
    { binary: 'systemctl', version: { args: ['--version'], pattern: '^systemd (\\d+)' } },
    // systemd runs as PID 1 (what sd_booted() checks), or a manager is reachable on its sockets.
    { anyOf: [{ file: '/run/systemd/system' }, { socket: '/run/systemd/private' }, { socket: '/run/dbus/system_bus_socket' }] },
  ],
  driver: (d) => new SystemdDriver({ clock: d.clock, onChange: d.onChange, onExit: d.onExit, onError: d.onError }),
});
