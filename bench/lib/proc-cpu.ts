/** CPU seconds a process has used so far (user + system), from /proc/<pid>/stat; 0 off Linux. */
import { readFileSync } from 'node:fs';

// USER_HZ: 100 on every Linux Node supports (sysconf is not reachable from Node).
const TICKS_PER_SECOND = 100;

export function cpuSeconds(pid: number): number {
  const { user, system } = cpuSplit(pid);
  return user + system;
}

/** CPU seconds so far in user space and in the kernel, apart (zeros off Linux). */
export function cpuSplit(pid: number): { user: number; system: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces, so split after its closing paren).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: Number(fields[11]) / TICKS_PER_SECOND, system: Number(fields[12]) / TICKS_PER_SECOND };
  } catch {
    return { user: 0, system: 0 };
  }
}

/** Starts counting a process's CPU time; the returned function gives the seconds used since (undefined without a pid). */
export function cpuMeter(pid: number | undefined): () => number | undefined {
  if (pid === undefined) return () => undefined;
  const start = cpuSeconds(pid);
  return () => cpuSeconds(pid) - start;
}

/** `{ cpuUsPerRequest }` from CPU seconds over a load and the requests it answered (nothing when unknown). */
export function perRequestUs(cpu: number | undefined, requests: number): { cpuUsPerRequest?: number } {
  return cpu === undefined || requests === 0 ? {} : { cpuUsPerRequest: (cpu * 1e6) / requests };
}
