import { type ChildProcess, spawn } from 'node:child_process';
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_NODE_ARGS } from '../runtime/node-args.js';
import { findRepoRoot } from '../runtime/repo-root.js';

export interface ServiceProcessOptions {
  /** The entry file that calls runServiceMain, absolute or relative to the repo root. */
  entry: string;
  /** Extra command-line arguments after the entry. */
  args?: readonly string[];
  /** Over the test's own environment; `undefined` removes a variable. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Node arguments before the entry; default SERVICE_NODE_ARGS (tsx). A compiled tree passes its own. */
  nodeArgs?: readonly string[];
  /** Working directory; default the repo root. */
  cwd?: string;
  /** Run as this user/group (the test runs as root; the image runs as a non-root user). */
  uid?: number;
  gid?: number;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A service started as its own Node process, the way the launcher and the image start it. */
export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Settles when the process has exited. */
  readonly exited: Promise<ProcessExit>;
  /** Resolves once stdout or stderr matches; rejects if the process exits first or on timeout. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Sends `signal` (default SIGTERM) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<ProcessExit>;
}

const repoRoot = findRepoRoot(fileURLToPath(new URL('.', import.meta.url)));

/**
 * Starts `entry` with the service Node arguments (tsx loader, async-context frames) from the repo
 * root, collecting its output. The caller stops it (or waits for `exited`).
 */
export function startServiceProcess(options: ServiceProcessOptions): ServiceProcess {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  const entry = isAbsolute(options.entry) ? options.entry : join(repoRoot, options.entry);
  const nodeArgs = options.nodeArgs ?? SERVICE_NODE_ARGS;
  const child = spawn(process.execPath, [...nodeArgs, entry, ...(options.args ?? [])], {
    cwd: options.cwd ?? repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const onOutput = () => {
    for (const listener of listeners) listener();
  };
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    onOutput();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    onOutput();
  });
  const exited = new Promise<ProcessExit>((resolve, reject) => {
    child.once('error', reject);
    // 'close' comes after the output streams ended, so stdout/stderr are complete by then.
    child.once('close', (code, signal) => resolve({ code, signal }));
  });

  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    waitForOutput(pattern, timeoutMs = 60_000) {
      return new Promise<void>((resolve, reject) => {
        const done = (error?: Error) => {
          listeners.delete(check);
          clearTimeout(timer);
          if (error) reject(error);
          else resolve();
        };
        const check = () => {
          if (pattern.test(stdout) || pattern.test(stderr)) done();
        };
        const timer = setTimeout(
          () => done(new Error(`no output matching ${pattern} within ${timeoutMs} ms:\n${stderr}`)),
          timeoutMs,
        );
        listeners.add(check);
        void exited.then((exit) =>
          done(new Error(`process exited (${exit.code ?? exit.signal}):\n${stderr}`)),
        );
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs a service process that is expected to exit on its own (e.g. refused configuration). */
export async function runServiceProcessToExit(
  options: ServiceProcessOptions,
  timeoutMs = 60_000,
): Promise<ProcessExit & { stdout: string; stderr: string }> {
  const service = startServiceProcess(options);
  const timer = setTimeout(() => service.child.kill('SIGKILL'), timeoutMs);
  try {
    const exit = await service.exited;
    if (exit.signal === 'SIGKILL') throw new Error(`still running after ${timeoutMs} ms:\n${service.stderr}`);
    return { ...exit, stdout: service.stdout, stderr: service.stderr };
  } finally {
    clearTimeout(timer);
  }
}
