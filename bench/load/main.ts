/**
 * A load process: runs the one task named in BENCH_LOAD_TASK (JSON) and prints its LoadResult
 * as a `LOAD_JSON …` line. Started by bench/lib/node-load.ts pinned to the load CPU.
 */
import type { LoadResult } from '../lib/load-result.js';
import { emmettAppend, emmettReadStream } from './emmett.js';
import {
  grpcCatchUp,
  grpcGetConfig,
  grpcHotStream,
  grpcReadStream,
  grpcSeedStreams,
} from './grpc-workloads.js';
import { liveDelivery } from './live-delivery.js';
import { rawCatchUp, rawInsert, rawReadStream } from './raw-postgres.js';
import { type LoadTask, RESULT_PREFIX, TASK_ENV } from './tasks.js';
import { watchFanOut } from './watch-fan-out.js';

function run(task: LoadTask): Promise<LoadResult> {
  switch (task.kind) {
    case 'raw-insert':
      return rawInsert(task);
    case 'raw-read-stream':
      return rawReadStream(task);
    case 'raw-catch-up':
      return rawCatchUp(task);
    case 'grpc-get-config':
      return grpcGetConfig(task);
    case 'grpc-read-stream':
      return grpcReadStream(task);
    case 'grpc-catch-up':
      return grpcCatchUp(task);
    case 'grpc-seed-streams':
      return grpcSeedStreams(task);
    case 'watch-fan-out':
      return watchFanOut(task);
    case 'grpc-hot-stream':
      return grpcHotStream(task);
    case 'live-delivery':
      return liveDelivery(task);
    case 'emmett-append':
      return emmettAppend(task);
    case 'emmett-read-stream':
      return emmettReadStream(task);
  }
}

const raw = process.env[TASK_ENV];
if (!raw) {
  process.stderr.write(`${TASK_ENV} is not set\n`);
  process.exit(2);
}
run(JSON.parse(raw) as LoadTask).then(
  (result) => {
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    process.stderr.write(
      `load task failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
