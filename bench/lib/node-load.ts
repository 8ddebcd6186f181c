import { spawn } from 'node:child_process';
import { type LoadTask, RESULT_PREFIX, TASK_ENV } from '../load/tasks.js';
import { LOAD_CPU, pinned } from './cpu.js';
import type { LoadResult } from './load-result.js';
import { repoRoot } from './repo-root.js';

/**
 * Runs one task in a fresh Node process pinned to `cpu` (the load CPU; in-process peers such as
 * Emmett run on the service CPU instead) and returns its result.
 */
export function runNodeLoad(task: LoadTask, cpu: number = LOAD_CPU): Promise<LoadResult> {
  const [command, args] = pinned(cpu, process.execPath, ['--import', 'tsx', 'bench/load/main.ts']);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: repoRoot,
      env: { ...process.env, [TASK_ENV]: JSON.stringify(task) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code === 0 && line) resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as LoadResult);
      else
        reject(
          new Error(`load task ${task.kind} failed (exit ${code}):\n${err.slice(-2000) || out.slice(-2000)}`),
        );
    });
  });
}
