import { readFile, writeFile } from 'node:fs/promises';

/**
 * Peak resident set size (VmHWM) of one process, in MiB. `reset()` sets the high-water mark back
 * to the current RSS (`echo 5 > /proc/<pid>/clear_refs`, Linux ≥ 4.0) so each workload reports
 * its own peak; when that is not permitted the peak is the process's lifetime peak.
 */
export interface PeakRss {
  reset(): Promise<boolean>;
  readMiB(): Promise<number | undefined>;
}

export function peakRssOf(pid: number): PeakRss {
  return {
    async reset() {
      return writeFile(`/proc/${pid}/clear_refs`, '5').then(
        () => true,
        () => false,
      );
    },
    async readMiB() {
      const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
      const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)?.[1];
      return kb === undefined ? undefined : Number(kb) / 1024;
    },
  };
}
