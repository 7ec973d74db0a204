// The demo's scenarios, by name: `warden demo [NAME]`.
import type { Scenario, Stage } from '../demo.js';
import { defaultScenario } from './default.js';
import { etcdScenario } from './etcd.js';
import { fleetScenario } from './fleet.js';
import { limiterScenario } from './ratelimiter.js';

export const SCENARIOS: Record<string, Scenario<Stage>> = {
  default: defaultScenario as unknown as Scenario<Stage>,
  etcd: etcdScenario as unknown as Scenario<Stage>,
  fleet: fleetScenario as unknown as Scenario<Stage>,
  ratelimiter: limiterScenario as unknown as Scenario<Stage>,
};
