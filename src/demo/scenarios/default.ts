// The default demo: web → cache (a real redis-server) and a worker, on plain processes. Four faults:
// a kill, a hang, a dependency's death (the dependent must not be restarted), a crash loop (Warden
// must stop and escalate).
import { writeFileSync } from 'node:fs';
import { killLab, makeLab, type Lab } from '../lab.js';
import type { Scenario, Stage } from '../demo.js';

type DefaultStage = Stage & { lab: Lab };

export const defaultScenario: Scenario<DefaultStage> = {
  name: 'default',
  description: 'web → redis cache, and a worker: kill, hang, a dead dependency, a crash loop',
  async setup() {
    const lab = await makeLab();
    return {
      lab,
      dir: lab.dir,
      configPath: lab.configPath,
      describe: `cache (redis-server :${lab.ports.cache}) ← web (node :${lab.ports.web}), worker`,
      healthy: ['cache', 'web', 'worker'],
      teardown: async (store, dataDir) => { if (store) killLab(store, dataDir); },
    };
  },
  faults: [
    {
      name: 'kill -9 web',
      inject: (_s, pid) => {
        process.kill(pid('web'), 'SIGKILL');
        return { service: 'web', cause: 'process_exited', actions: ['restart web'], status: 'resolved' };
      },
    },
    {
      name: 'SIGSTOP web (hang)',
      inject: (_s, pid) => {
        process.kill(pid('web'), 'SIGSTOP');
        return { service: 'web', cause: 'process_hung', actions: ['restart web'], status: 'resolved' };
      },
    },
    {
      name: 'kill -9 cache (dependency)',
      inject: (_s, pid) => {
        process.kill(pid('cache'), 'SIGKILL');
        return { service: 'cache', cause: 'process_exited', actions: ['restart cache'], status: 'resolved' };
      },
    },
    {
      name: 'crash loop worker',
      inject: (s, pid) => {
        writeFileSync(s.lab.poisonFile, 'garbage');
        process.kill(pid('worker'), 'SIGKILL');
        return { service: 'worker', cause: 'crash_loop', actions: ['restart worker'], status: 'escalated' };
      },
    },
  ],
};

