import { execFile, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LOAD_CPU, pinned } from './cpu.js';
import type { LoadResult } from './load-result.js';
import { benchDir } from './repo-root.js';

const run = promisify(execFile);

/** A Debian-packaged load tool, installed with apt-get when missing (the bench runs as root). */
export async function ensureDebianTool(
  binary: string,
  pkg: string,
  log: (line: string) => void,
): Promise<string> {
  const locate = () =>
    run('sh', ['-c', `command -v ${binary}`]).then(
      (r) => r.stdout.trim(),
      () => '',
    );
  const found = await locate();
  if (found) return found;
  if (process.getuid?.() !== 0)
    throw new Error(`bench: ${binary} is not installed; run \`sudo apt-get install -y ${pkg}\``);
  log(`bench: installing ${pkg} with apt-get …`);
  const install = () =>
    run('apt-get', ['install', '-y', '-q', pkg], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  await install().catch(async () => {
    await run('apt-get', ['update', '-q']);
    await install();
  });
  const installed = await locate();
  if (!installed) throw new Error(`bench: ${pkg} installed but ${binary} not found`);
  return installed;
}

/**
 * wrk (C, epoll, LuaJIT) is the HTTP load generator: one core of it drives far more requests than
 * one core of a Node generator, so on a 2-core machine the server, not the generator, saturates.
 */
export function ensureWrk(log: (line: string) => void): Promise<string> {
  return ensureDebianTool('wrk', 'wrk', log);
}

export interface WrkRun {
  url: string;
  connections: number;
  threads: number;
  durationSec: number;
  /** Lua file under bench/lua (lua/report.lua is appended to it); none = plain GET of `url`. */
  script?: string;
  scriptArgs?: string[];
  headers: Record<string, string>;
  /** Temp directory for the composed script. */
  workDir: string;
}

interface WrkJson {
  requests: number;
  duration_us: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50_us: number;
  p99_us: number;
}

/** Parses the line lua/report.lua prints into a LoadResult. */
export function parseWrkOutput(stdout: string): LoadResult {
  const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk printed no result line:\n${stdout}`);
  const r = JSON.parse(line.slice('WRK_JSON '.length)) as WrkJson;
  // wrk counts a response as an error when its status is ≥ 400, besides socket errors.
  const errors = r.connect + r.read + r.write + r.status + r.timeout;
  const ok = Math.max(0, r.requests - r.status);
  return {
    ops: ok,
    units: ok,
    elapsedSec: r.duration_us / 1e6,
    errors,
    p50Ms: r.p50_us / 1000,
    p99Ms: r.p99_us / 1000,
    ...(errors > 0
      ? {
          errorSamples: [
            `connect ${r.connect}, read ${r.read}, write ${r.write}, status≥400 ${r.status}, timeout ${r.timeout}`,
          ],
        }
      : {}),
  };
}

let composed = 0;

/** Runs wrk pinned to the load CPU. */
export async function runWrk(options: WrkRun): Promise<LoadResult> {
  const report = await readFile(join(benchDir, 'lua/report.lua'), 'utf8');
  const body = options.script ? await readFile(join(benchDir, 'lua', options.script), 'utf8') : '';
  const scriptFile = join(options.workDir, `wrk-${++composed}.lua`);
  await writeFile(scriptFile, `${body}\n${report}`);
  const args = [
    '-t',
    String(options.threads),
    '-c',
    String(options.connections),
    '-d',
    `${options.durationSec}s`,
    '--timeout',
    '10s',
    ...Object.entries(options.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]),
    '-s',
    scriptFile,
    options.url,
    ...(options.scriptArgs?.length ? ['--', ...options.scriptArgs] : []),
  ];
  const [command, pinnedArgs] = pinned(LOAD_CPU, 'wrk', args);
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(command, pinnedArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`wrk exited ${code}: ${err || out}`)),
    );
  });
  return parseWrkOutput(stdout);
}
