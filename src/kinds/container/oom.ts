// Whether the kernel's OOM killer killed a container. Podman 4 on cgroup v1 loses conmon's "oom"
// file (conmon writes it into Podman's working directory, which Podman never reads: podman#13102),
// so State.OOMKilled stays false for a container the kernel killed for memory. The kernel log still
// says so, naming the container's memory cgroup, which carries the container id.
import type { Exec } from './exec.js';

const DMESG_TIMEOUT_MS = 3000;

/** The kernel log lines that record an OOM kill inside the container with this id. */
export function oomLines(kernelLog: string, containerId: string): string[] {
  if (containerId.length < 12) return [];
  return kernelLog.split('\n').filter((l) => l.includes('oom-kill:') && l.includes(containerId));
}

/**
 * Asks the kernel log (dmesg) whether the container with this id lost a process to the OOM killer.
 * False when the log cannot be read (not root, or dmesg restricted): the exit code stands alone then.
 */
export async function kernelOomKilled(exec: Exec, containerId: string): Promise<boolean> {
  const res = await exec(['dmesg'], { timeoutMs: DMESG_TIMEOUT_MS });
  return res.code === 0 && oomLines(res.stdout, containerId).length > 0;
}
