import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { SERVICE_NODE_ARGS } from '@k1s0/platform';
import { pinned, SERVER_CPU } from './cpu.js';
import { type PeakRss, peakRssOf } from './peak-rss.js';
import { repoRoot } from './repo-root.js';

export interface ServerProcess {
  name: string;
  /** The node process that serves (taskset execs node, so this is the server itself). */
  pid: number;
  peakRss: PeakRss;
  logFile: string;
  /** SIGTERM, then SIGKILL after 15 s; resolves the exit code. */
  stop(): Promise<number | null>;
}

export interface ServerProcessOptions {
  name: string;
  /** TypeScript entry, relative to the repo root; run by node with tsx's loader. */
  entry: string;
  args?: string[];
  env: NodeJS.ProcessEnv;
  /** Polled until it answers 200. */
  readyUrl: string;
  logFile: string;
  /** When set, the process runs under `node --cpu-prof` writing into this directory. */
  cpuProfileDir?: string;
  /** Node arguments before the entry (default SERVICE_NODE_ARGS: tsx) and working directory (default the repo). */
  nodeArgs?: readonly string[];
  cwd?: string;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/**
 * Starts a Node server pinned to the server CPU — `node <SERVICE_NODE_ARGS> <entry>`, as the launcher
 * does — and waits until
 * `readyUrl` answers 200.
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const profileFlags = options.cpuProfileDir
    ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir, '--cpu-prof-name', `${options.name}.cpuprofile`]
    : [];
  const [command, args] = pinned(SERVER_CPU, process.execPath, [
    ...profileFlags,
    ...(options.nodeArgs ?? SERVICE_NODE_ARGS),
    options.entry,
    ...(options.args ?? []),
  ]);
  const log = createWriteStream(options.logFile);
  const child = spawn(command, args, {
    cwd: options.cwd ?? repoRoot,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exit = exited(child);

  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(
        `${options.name} exited with code ${child.exitCode} during start-up; see ${options.logFile}`,
      );
    }
    const status = await fetch(options.readyUrl).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(
        `${options.name} was not ready within 90 s (last status ${status}); see ${options.logFile}`,
      );
    }
    await sleep(200);
  }

  const pid = child.pid!;
  return {
    name: options.name,
    pid,
    peakRss: peakRssOf(pid),
    logFile: options.logFile,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exit;
      clearTimeout(killer);
      return code;
    },
  };
}
