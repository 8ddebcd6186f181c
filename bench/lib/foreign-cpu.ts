import { readdir, readFile } from 'node:fs/promises';

interface ProcStat {
  ppid: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
}

const TICKS_PER_SEC = 100;

async function readProcStats(): Promise<Map<number, ProcStat>> {
  const stats = new Map<number, ProcStat>();
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  await Promise.all(
    pids.map(async (pid) => {
      const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      // Fields after the parenthesised command name: state ppid … utime(12th) stime(13th).
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      if (fields.length < 13) return;
      stats.set(Number(pid), { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    }),
  );
  return stats;
}

function descendantsOf(root: number, stats: Map<number, ProcStat>): Set<number> {
  const ours = new Set(stats.has(root) ? [root] : []);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, stat] of stats) {
      if (!ours.has(pid) && ours.has(stat.ppid)) {
        ours.add(pid);
        grew = true;
      }
    }
  }
  return ours;
}

/**
 * CPU used during a window by the process trees rooted at `roots` (e.g. the service, the
 * postmaster), in % of one CPU each.
 */
export async function treeCpuMeter(
  roots: Record<string, number>,
): Promise<{ stop(): Promise<Record<string, number>> }> {
  const before = await readProcStats();
  const start = performance.now();
  return {
    async stop() {
      const after = await readProcStats();
      const elapsedSec = (performance.now() - start) / 1000;
      const out: Record<string, number> = {};
      for (const [name, root] of Object.entries(roots)) {
        let ticks = 0;
        for (const pid of descendantsOf(root, after))
          ticks += after.get(pid)!.ticks - (before.get(pid)?.ticks ?? 0);
        out[name] = elapsedSec > 0 ? (100 * ticks) / TICKS_PER_SEC / elapsedSec : 0;
      }
      return out;
    },
  };
}

/**
 * CPU used by processes that are not ours (not descendants of this process, not kernel
 * threads) while a workload runs, in % of one CPU — this machine may be shared, and a busy
 * neighbour makes the numbers lower than the code deserves. Processes that start and end inside
 * the window are not seen, so this is a lower bound.
 */
export async function foreignCpuMeter(): Promise<{ stop(): Promise<number> }> {
  const before = await readProcStats();
  const start = performance.now();
  return {
    async stop() {
      const after = await readProcStats();
      const elapsedSec = (performance.now() - start) / 1000;
      const ours = descendantsOf(process.pid, after);
      let ticks = 0;
      for (const [pid, stat] of after) {
        if (ours.has(pid) || pid === 2 || stat.ppid === 2) continue;
        ticks += stat.ticks - (before.get(pid)?.ticks ?? 0);
      }
      return elapsedSec > 0 ? (100 * ticks) / TICKS_PER_SEC / elapsedSec : 0;
    },
  };
}
