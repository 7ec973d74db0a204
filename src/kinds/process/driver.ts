// The process supervisor seen through the ServiceDriver interface.
import type { ProcessState, ServiceSpec } from '../../domain/types.js';
import type { ActOptions, ServiceDriver } from '../driver.js';
import type { ProcessSupervisor } from './supervisor.js';

export class ProcessDriver implements ServiceDriver {
  constructor(readonly supervisor: ProcessSupervisor) {}
  state(spec: ServiceSpec, opts?: { cached?: boolean }): ProcessState { return this.supervisor.state(spec.name, opts); }
  start(spec: ServiceSpec, opts?: ActOptions): Promise<{ pid: number | null }> { return this.supervisor.start(spec, opts); }
  stop(spec: ServiceSpec, opts?: ActOptions): Promise<void> { return this.supervisor.stop(spec, opts); }
  restart(spec: ServiceSpec, opts?: ActOptions): Promise<{ pid: number | null }> { return this.supervisor.restart(spec, opts); }
  logTail(spec: ServiceSpec, lines: number): string[] { return this.supervisor.logTail(spec.name, lines); }
}
