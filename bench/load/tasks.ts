/** The jobs a Node load process (bench/load/main.ts, pinned to the load CPU) can run. */
interface Timing {
  warmupMs: number;
  durationMs: number;
}

export type LoadTask =
  | ({
      kind: 'raw-insert';
      url: string;
      writers: number;
      rowsPerTx: number;
      streamPrefix: string;
      /** Also NOTIFY in the same transaction, as both services do on every write. */
      notify?: boolean;
    } & Timing)
  | ({
      kind: 'raw-read-stream';
      url: string;
      streamId: string;
      pageSize: number;
      pages: number;
      concurrency: number;
    } & Timing)
  | ({ kind: 'raw-catch-up'; url: string; total: number; batch: number } & Timing)
  | ({
      kind: 'grpc-hot-stream';
      grpcUrl: string;
      token: string;
      streamId: string;
      writers: number;
      connections: number;
    } & Timing)
  /** Peer: Emmett in-process (bench/load/emmett.ts). */
  | ({ kind: 'emmett-append'; url: string; writers: number; hot: boolean; streamPrefix: string } & Timing)
  | ({
      kind: 'emmett-read-stream';
      url: string;
      events: number;
      concurrency: number;
      streamPrefix: string;
    } & Timing)
  | ({
      kind: 'grpc-get-config';
      grpcUrl: string;
      token: string;
      namespace: string;
      key: string;
      concurrency: number;
      connections: number;
    } & Timing)
  | ({
      kind: 'grpc-read-stream';
      grpcUrl: string;
      token: string;
      streamId: string;
      pageSize: number;
      pages: number;
      concurrency: number;
      connections: number;
    } & Timing)
  | ({
      kind: 'grpc-catch-up';
      grpcUrl: string;
      token: string;
      total: number;
      /** SubscribeAllRequest.batch: several events per message. */
      batch: boolean;
    } & Timing)
  | ({
      kind: 'live-delivery';
      grpcUrl: string;
      token: string;
      /** Appends (1 event each) per second, open loop. */
      ratePerSec: number;
      streamPrefix: string;
      appendStreams: number;
      connections: number;
      /** SubscribeAllRequest.batch of the subscriber. */
      batch: boolean;
    } & Timing)
  | {
      kind: 'grpc-seed-streams';
      grpcUrl: string;
      token: string;
      streamPrefix: string;
      streams: number;
      eventsPerStream: number;
      eventsPerAppend: number;
      concurrency: number;
    }
  | {
      kind: 'watch-fan-out';
      grpcUrl: string;
      restUrl: string;
      token: string;
      namespace: string;
      key: string;
      streams: number;
      connections: number;
      /** Unmeasured rounds first (JIT, connection and cache warm-up), like the other workloads' warm-up. */
      warmupRounds: number;
      rounds: number;
      /**
       * The instant latency is counted from: `put-sent` (default; includes the PUT's own commit) or
       * `put-answered` (the commit acknowledged to the writer: delivery latency only; a stream
       * that got the change before the answer arrived counts 0).
       */
      latencyFrom?: 'put-sent' | 'put-answered';
    };

export const TASK_ENV = 'BENCH_LOAD_TASK';
export const RESULT_PREFIX = 'LOAD_JSON ';
