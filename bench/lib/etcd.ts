import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pinned, SERVER_CPU } from './cpu.js';
import { freePort } from './free-port.js';
import { type PeakRss, peakRssOf } from './peak-rss.js';
import { ensureDebianTool } from './wrk.js';

/** The etcd peer (Debian `etcd-server`, 3.4 on bookworm), installed on demand like wrk. */
export function ensureEtcd(log: (line: string) => void): Promise<string> {
  return ensureDebianTool('etcd', 'etcd-server', log);
}

export interface RunningEtcd {
  /** Client URL; the JSON gateway answers under /v3/kv/… on it. */
  url: string;
  pid: number;
  peakRss: PeakRss;
  stop(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * A single-member etcd pinned to the server CPU with GOMAXPROCS=1 — the core a k1s0 service gets —
 * on a fresh data directory under the run's work dir (same filesystem as PostgreSQL's, which the
 * bench has checked is not a tmpfs). Default settings: every put is fsynced to the WAL before
 * it is acknowledged, like the services' durable commits.
 */
export async function startEtcd(workDir: string, log: (line: string) => void): Promise<RunningEtcd> {
  const binary = await ensureEtcd(log);
  const dataDir = await mkdtemp(join(workDir, 'etcd-'));
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const [command, args] = pinned(SERVER_CPU, binary, [
    '--name',
    'bench',
    '--data-dir',
    dataDir,
    '--listen-client-urls',
    url,
    '--advertise-client-urls',
    url,
    '--listen-peer-urls',
    peerUrl,
    '--initial-advertise-peer-urls',
    peerUrl,
    '--initial-cluster',
    `bench=${peerUrl}`,
    '--log-level',
    'warn',
  ]);
  const logFile = join(workDir, 'etcd.log');
  const out = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, {
    env: { ...process.env, GOMAXPROCS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const exit = exited(child);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`etcd exited with code ${child.exitCode}; see ${logFile}`);
    const healthy = await fetch(`${url}/health`).then(
      async (r) => r.status === 200 && ((await r.json()) as { health?: string }).health === 'true',
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`etcd was not healthy within 30 s; see ${logFile}`);
    }
    await sleep(200);
  }
  const pid = child.pid!;
  return {
    url,
    pid,
    peakRss: peakRssOf(pid),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(killer);
    },
  };
}

/** etcd's JSON gateway takes keys and values as base64 (protobuf `bytes` in JSON). */
export const b64 = (text: string): string => Buffer.from(text).toString('base64');
