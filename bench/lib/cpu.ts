import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** CPU 0 runs what is measured (services, baselines' servers, PostgreSQL); CPU 1 the load. */
export const SERVER_CPU = 0;
export const LOAD_CPU = 1;

/** Command + args that start `command` pinned to `cpu` (taskset execs it, so the pid is the program's). */
export function pinned(cpu: number, command: string, args: string[]): [string, string[]] {
  return ['taskset', ['-c', String(cpu), command, ...args]];
}

/** Moves every thread of a running process to `cpu`; processes it forks later inherit that. */
export async function pinProcess(pid: number, cpu: number): Promise<void> {
  await run('taskset', ['-a', '-p', '-c', String(cpu), String(pid)]);
}

/** The CPUs a process may run on, as taskset prints them (e.g. "0"). */
export async function affinityOf(pid: number): Promise<string> {
  const { stdout } = await run('taskset', ['-c', '-p', String(pid)]);
  return stdout.trim().split(':').pop()?.trim() ?? '?';
}

/** Parses a taskset CPU list such as "0-1" or "0,2-3". */
export function parseCpuList(list: string): Set<number> {
  const cpus = new Set<number>();
  for (const part of list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [from, to = from] = part.split('-').map(Number);
    if (from === undefined || to === undefined || Number.isNaN(from) || Number.isNaN(to)) continue;
    for (let cpu = from; cpu <= to; cpu++) cpus.add(cpu);
  }
  return cpus;
}

/** The placement needs taskset and both CPU 0 and CPU 1. */
export async function assertPlacementPossible(): Promise<void> {
  const allowed = await affinityOf(process.pid).catch(() => {
    throw new Error(
      'bench: `taskset` (util-linux) is required to pin the server and the load to separate CPUs',
    );
  });
  const cpus = parseCpuList(allowed);
  if (!cpus.has(SERVER_CPU) || !cpus.has(LOAD_CPU)) {
    throw new Error(`bench: needs CPUs ${SERVER_CPU} and ${LOAD_CPU}; this process may only use ${allowed}`);
  }
}

interface CpuTimes {
  busy: number;
  total: number;
}

async function readCpuTimes(): Promise<Map<string, CpuTimes>> {
  const out = new Map<string, CpuTimes>();
  for (const line of (await readFile('/proc/stat', 'utf8')).split('\n')) {
    const match = /^(cpu\d+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const fields = match[2]!.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal (guest is already counted in user)
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    out.set(match[1]!, { busy: total - idle, total });
  }
  return out;
}

/** Starts measuring per-CPU busy time; `stop()` returns the busy share (0–100) of CPU 0 and CPU 1. */
export async function cpuBusyMeter(): Promise<{ stop(): Promise<{ cpu0: number; cpu1: number }> }> {
  const before = await readCpuTimes();
  return {
    async stop() {
      const after = await readCpuTimes();
      const share = (cpu: string) => {
        const a = after.get(cpu);
        const b = before.get(cpu);
        if (!a || !b || a.total === b.total) return 0;
        return (100 * (a.busy - b.busy)) / (a.total - b.total);
      };
      return { cpu0: share('cpu0'), cpu1: share('cpu1') };
    },
  };
}
