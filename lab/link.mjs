// Lab network link: a TCP proxy from LISTEN to TARGET (ports on 127.0.0.1) whose behaviour is read
// from CONTROL_FILE, so a fault can be injected between two services without touching either:
// {"delayMs": 300} delays every chunk each way; {"drop": true} accepts connections but forwards
// nothing (packets lost); no file, or {}, forwards at once. Not a Warden service: the network.
import { readFileSync } from 'node:fs';
import net from 'node:net';

const listen = Number(process.env.LISTEN);
const target = Number(process.env.TARGET);
const control = process.env.CONTROL_FILE;
let mode = {};
function read() {
  try { mode = JSON.parse(readFileSync(control, 'utf8')); } catch { mode = {}; }
}
setInterval(read, 50);
read();

function pipe(from, to) {
  from.on('data', (d) => {
    if (mode.drop) return;
    if (mode.delayMs) setTimeout(() => to.write(d), mode.delayMs);
    else to.write(d);
  });
  from.on('close', () => to.destroy());
  from.on('error', () => to.destroy());
}

net.createServer((client) => {
  const upstream = net.connect({ host: '127.0.0.1', port: target });
  pipe(client, upstream);
  pipe(upstream, client);
}).listen(listen, '127.0.0.1', () => console.log(`link ${listen} → ${target}`));
