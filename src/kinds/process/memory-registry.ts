// An in-memory ProcessRegistry for tests and one-shot commands; the daemon uses the Store.
import type { ExitRecord } from '../../domain/types.js';
import type { ProcessRecord, ProcessRegistry } from './supervisor.js';

export class MemoryProcessRegistry implements ProcessRegistry {
  private readonly processes = new Map<string, ProcessRecord>();
  private readonly exits = new Map<string, ExitRecord[]>();

  putProcess(p: ProcessRecord): void {
    this.processes.set(p.service, { ...p, argv: [...p.argv] });
  }

  getProcess(service: string): ProcessRecord | null {
    const p = this.processes.get(service);
    return p === undefined ? null : { ...p, argv: [...p.argv] };
  }

  deleteProcess(service: string): void {
    this.processes.delete(service);
  }

  addExit(service: string, e: ExitRecord): void {
    const list = this.exits.get(service) ?? [];
    list.push({ ...e });
    this.exits.set(service, list.slice(-100));
  }

  recentExits(service: string, limit = 20): ExitRecord[] {
    return (this.exits.get(service) ?? []).slice(-limit).reverse().map((e) => ({ ...e }));
  }
}
