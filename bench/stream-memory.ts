/**
 * Issue 10, finding 7: does memory come back after many WatchConfig streams close?
 *
 * Starts config-server as its own process (APP_ENV=dev, embedded PostgreSQL under .data), then
 * for each round opens STREAMS live watches (20 callers × STREAMS/20, one HTTP/2 connection per
 * caller: the per-caller and per-connection caps are 100), waits until the server counts them
 * open, reads the process's RSS, closes them all, waits until the server counts 0, lets it settle
 * and reads RSS again. A leak shows as an "after" that climbs round by round.
 *
 *   node --import tsx bench/stream-memory.ts [streams=2000] [rounds=3]
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startServiceProcess, tokenFor, waitFor } from '@k1s0/platform/testing';
import { ConfigService } from '@k1s0/proto/k1s0/system/config/v1/config_pb';
import { grpcClients } from './load/grpc-client.js';

const STREAMS = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 3);
const CALLERS = 20;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

async function metric(restPort: number, name: RegExp): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${restPort}/metrics`);
  const text = await response.text();
  return Number(name.exec(text)?.[1] ?? Number.NaN);
}

const openStreams = (restPort: number) => metric(restPort, /^config_server_watch_streams_open (\d+)/m);
/** V8 heap in use (prom-client's default Node metrics): what a leak would hold on to. */
const heapUsedMiB = async (restPort: number) =>
  Math.round((await metric(restPort, /^\w*nodejs_heap_size_used_bytes (\d+(?:\.\d+)?)/m)) / 2 ** 20);

const service = startServiceProcess({
  entry: 'apps/config-server/src/main.ts',
  env: { APP_ENV: 'dev', PORT: '0', GRPC_PORT: '0', LOG_LEVEL: 'info', KAFKA_BROKERS: '' },
});
try {
  await service.waitForOutput(/"grpcPort":\d+/, 120_000);
  const restPort = Number(/"restPort":(\d+)/.exec(service.stdout)?.[1]);
  const grpcPort = Number(/"grpcPort":(\d+)/.exec(service.stdout)?.[1]);
  const pid = service.child.pid ?? 0;
  await sleep(2_000);
  console.log(
    `config-server pid ${pid}: at rest RSS ${rssMiB(pid)} MiB heap ${await heapUsedMiB(restPort)} MiB; ` +
      `${STREAMS} streams per round`,
  );
  for (let round = 1; round <= ROUNDS; round++) {
    const abort = new AbortController();
    const pending: Promise<void>[] = [];
    for (let caller = 0; caller < CALLERS; caller++) {
      const token = tokenFor('none', `watcher-${caller}@example.com`);
      const [client] = grpcClients(ConfigService, `http://127.0.0.1:${grpcPort}`, token, 1);
      for (let n = 0; n < STREAMS / CALLERS; n++) {
        const stream = client!.watchConfig(
          { namespaces: [`system.memory${n % 50}.db`] },
          { signal: abort.signal },
        );
        pending.push(
          (async () => {
            try {
              for await (const _ of stream) {
                // live only: nothing is written during the round
              }
            } catch {
              // aborted by the round's end
            }
          })(),
        );
      }
    }
    await waitFor('every stream open', async () => (await openStreams(restPort)) === STREAMS, 120_000);
    const peak = rssMiB(pid);
    const peakHeap = await heapUsedMiB(restPort);
    abort.abort();
    await Promise.all(pending);
    await waitFor('every stream closed', async () => (await openStreams(restPort)) === 0, 60_000);
    await sleep(10_000);
    console.log(
      `round ${round}: with ${STREAMS} open RSS ${peak} MiB heap ${peakHeap} MiB; ` +
        `10 s after all closed RSS ${rssMiB(pid)} MiB heap ${await heapUsedMiB(restPort)} MiB`,
    );
  }
} finally {
  await service.stop();
}
