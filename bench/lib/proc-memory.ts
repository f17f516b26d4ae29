/** A process's resident memory from /proc/<pid>/status, in MiB: now (VmRSS) and its peak so far (VmHWM). */
import { readFileSync } from 'node:fs';

export interface Memory {
  readonly rssMiB: number;
  readonly peakMiB: number;
}

export function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  // The kernel writes these in kB (KiB).
  const kib = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(status);
    if (!match) throw new Error(`/proc/${pid}/status has no ${field}`);
    return Number(match[1]);
  };
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
}

export const mib = (value: number) => `${value.toFixed(1)} MiB`;
