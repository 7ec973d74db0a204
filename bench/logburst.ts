// `node dist/bench/logburst.js [MB]`: one `kind: process` service writes MB mebibytes (default
// 1024) to stdout as fast as it can, through the log collector, with log { maxSize: 100MiB, keep: 2 }.
// Reports how long it took, the largest total size of the log files seen (sampled every 20 ms; the
// bound is (keep + 1) × maxSize), and the event-loop delay of the supervising process (the process
// Warden's loop runs in) during the burst. Run it with 0 for the baseline: the same process, no output.
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceSpec } from '../src/domain/types.js';
import { systemClock } from '../src/lib/clock.js';
import { stopCollector } from '../src/kinds/process/collector.js';
import { MemoryProcessRegistry } from '../src/kinds/process/memory-registry.js';
import { ProcessSupervisor } from '../src/kinds/process/supervisor.js';

const MIB = 1024 * 1024;
const mb = Number(process.argv[2] ?? 1024);
const dir = mkdtempSync(join(tmpdir(), 'warden-logburst-'));
const sup = new ProcessSupervisor({
  dataDir: dir, instanceId: 'logburst', registry: new MemoryProcessRegistry(), clock: systemClock,
  onExit: () => {}, onError: (e) => console.error(e),
});
const writer = `const s='y'.repeat(1023)+'\\n';let n=0;(function w(){while(n<${mb}*1024){n++;if(!process.stdout.write(s))return process.stdout.once('drain',w);}})()`;
const spec = {
  name: 'burst', host: 'local', kind: 'process', start: [process.execPath, '-e', writer], unit: null, cwd: tmpdir(), env: {},
  stopSignal: 'SIGTERM', stopGraceMs: 1000, dependsOn: [], checks: [], runbooks: [], logMaxBytes: 100 * MIB, logKeep: 2,
} as ServiceSpec;
const log = join(dir, 'logs', 'burst.log');
const sizes = (): number[] => ['', '.1', '.2', '.3'].map((x) => (existsSync(log + x) ? statSync(log + x).size : 0));

try {
  sup.configureLogs([spec]);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const t0 = performance.now();
  await sup.start(spec);
  let maxTotal = 0;
  while (sup.state('burst').exits.length === 0 || (mb > 0 && sizes()[0] === 0)) {
    maxTotal = Math.max(maxTotal, sizes().reduce((a, b) => a + b, 0));
    await sleep(20);
  }
  // What is still in the pipe when the writer exits is written within a moment.
  await sleep(1000);
  maxTotal = Math.max(maxTotal, sizes().reduce((a, b) => a + b, 0));
  delay.disable();
  console.log(JSON.stringify({
    mebibytes: mb, seconds: +((performance.now() - t0) / 1000).toFixed(1),
    loopDelayMaxMs: +(delay.max / 1e6).toFixed(1), loopDelayP99Ms: +(delay.percentile(99) / 1e6).toFixed(1),
    filesMaxTotalMiB: +(maxTotal / MIB).toFixed(1), boundMiB: 300, fourthFile: existsSync(`${log}.3`),
  }));
} finally {
  sup.dispose();
  stopCollector(join(dir, 'logs'));
  rmSync(dir, { recursive: true, force: true });
}
