import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LOAD_CPU, pinned } from './cpu.js';
import { ensureDebianTool } from './wrk.js';

const run = promisify(execFile);

/**
 * h2load (nghttp2-client, C) drives gRPC unary calls: the same request body on every stream, so the
 * client neither encodes nor decodes messages and a Node client's cost is out of the measurement.
 */
export function ensureH2load(log: (line: string) => void): Promise<string> {
  return ensureDebianTool('h2load', 'nghttp2-client', log);
}

export interface H2loadRun {
  /** Full URL of the gRPC method, e.g. http://127.0.0.1:port/pkg.Service/Method. */
  url: string;
  /** The request message, protobuf-encoded (framed here). */
  message: Uint8Array;
  headers: Record<string, string>;
  clients: number;
  /** Concurrent streams per client connection. */
  streams: number;
  warmupSec: number;
  durationSec: number;
  workDir: string;
}

export interface H2loadResult {
  succeeded: number;
  failed: number;
  errored: number;
  requestsPerSec: number;
  meanMs: number | undefined;
  /** Response DATA bytes per succeeded request (to check that answers carry what they should). */
  dataBytesPerRequest: number;
}

/** A gRPC length-prefixed message: uncompressed flag, 4-byte big-endian length, bytes. */
function grpcFrame(message: Uint8Array): Uint8Array {
  const frame = new Uint8Array(5 + message.length);
  new DataView(frame.buffer).setUint32(1, message.length);
  frame.set(message, 5);
  return frame;
}

const unitMs: Record<string, number> = { us: 0.001, ms: 1, s: 1000 };

export async function runH2load(load: H2loadRun, log: (line: string) => void): Promise<H2loadResult> {
  const binary = await ensureH2load(log);
  const body = join(load.workDir, `h2load-${process.hrtime.bigint()}.bin`);
  await writeFile(body, grpcFrame(load.message));
  const headers = {
    'content-type': 'application/grpc',
    te: 'trailers',
    ...load.headers,
  };
  const args = [
    `--clients=${load.clients}`,
    `--max-concurrent-streams=${load.streams}`,
    `--warm-up-time=${load.warmupSec}s`,
    `--duration=${load.durationSec}s`,
    `--data=${body}`,
    ...Object.entries(headers).map(([name, value]) => `--header=${name}: ${value}`),
    load.url,
  ];
  const [command, pinnedArgs] = pinned(LOAD_CPU, binary, args);
  const { stdout } = await run(command, pinnedArgs, { maxBuffer: 16 * 1024 * 1024 });
  const perSec = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(stdout);
  const counts =
    /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(stdout);
  const data = /traffic: .*\((\d+)\) data/.exec(stdout);
  const mean = /time for request:\s+[\d.]+\w+\s+[\d.]+\w+\s+([\d.]+)(us|ms|s)\b/.exec(stdout);
  if (!perSec || !counts) throw new Error(`h2load: unexpected output:\n${stdout.slice(-1500)}`);
  const succeeded = Number(counts[1]);
  return {
    succeeded,
    failed: Number(counts[2]),
    errored: Number(counts[3]),
    requestsPerSec: Number(perSec[1]),
    meanMs: mean ? Number(mean[1]) * (unitMs[mean[2]!] ?? 1) : undefined,
    dataBytesPerRequest: data && succeeded > 0 ? Number(data[1]) / succeeded : 0,
  };
}
