import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import { ConfigService, configV1 } from '@k1s0/proto';
import { b64, type RunningEtcd, startEtcd } from '../lib/etcd.js';
import { freePort } from '../lib/free-port.js';
import { runH2load } from '../lib/h2load.js';
import type { LoadResult } from '../lib/load-result.js';
import { runNodeLoad } from '../lib/node-load.js';
import { startServerProcess } from '../lib/server-process.js';
import { measureHttp } from './http-load.js';
import { rawInsertRun, timedNodeLoad } from './node-load-workload.js';
import { type BenchContext, serviceOf, type Workload, type WorkloadOutcome } from './workload.js';

const READ_NAMESPACE = 'system.bench.read';
const READ_KEY = 'max_connections';
const WRITE_NAMESPACE = 'system.bench.write';
const WATCH_NAMESPACE = 'system.bench.watch';
const WATCH_KEY = 'refresh_interval_ms';

/** Creates the key the read workloads fetch; returns the exact JSON body the service answers. */
function readKeyBody(ctx: BenchContext): Promise<string> {
  return ctx.once('config-read-key', async () => {
    const { restUrl } = serviceOf(ctx, 'config');
    const url = `${restUrl}/api/v1/config/${READ_NAMESPACE}/${READ_KEY}`;
    const headers = { authorization: `Bearer ${ctx.token}`, 'content-type': 'application/json' };
    const put = await fetch(url, {
      method: 'PUT',
      headers,
      body: JSON.stringify({
        value: { max: 25, idle_timeout_ms: 30000 },
        version: 0,
        description: 'DB pool size',
      }),
    });
    if (put.status !== 201) throw new Error(`seeding ${url} answered ${put.status}: ${await put.text()}`);
    const get = await fetch(url, { headers });
    if (get.status !== 200) throw new Error(`GET ${url} answered ${get.status}: ${await get.text()}`);
    return get.text();
  });
}

let runNo = 0;

/** Starts the bare Fastify baseline (serving the read key's exact JSON) for the duration of `use`. */
async function withBareFastify(
  ctx: BenchContext,
  use: (url: string) => Promise<LoadResult>,
): Promise<WorkloadOutcome> {
  const body = ctx.services.config
    ? await readKeyBody(ctx)
    : JSON.stringify({
        id: '00000000-0000-0000-0000-000000000000',
        namespace: READ_NAMESPACE,
        key: READ_KEY,
      });
  const port = await freePort();
  const server = await startServerProcess({
    name: 'bare-fastify',
    entry: 'bench/baselines/bare-fastify.ts',
    args: [String(port), body],
    env: { ...process.env, NODE_ENV: 'production' },
    readyUrl: `http://127.0.0.1:${port}/readyz`,
    logFile: join(ctx.workDir, 'bare-fastify.log'),
  });
  try {
    const result = await use(`http://127.0.0.1:${port}/api/v1/config/${READ_NAMESPACE}/${READ_KEY}`);
    return { result, peakRssMiB: await server.peakRss.readMiB() };
  } finally {
    await server.stop();
  }
}

/**
 * Starts the etcd peer for the duration of `use` (a fresh member per workload, like the bare
 * Fastify baseline) and reports etcd's own peak RSS.
 */
async function withEtcd(
  ctx: BenchContext,
  use: (etcd: RunningEtcd) => Promise<LoadResult>,
): Promise<WorkloadOutcome> {
  const etcd = await startEtcd(ctx.workDir, ctx.log);
  try {
    const result = await use(etcd);
    return { result, peakRssMiB: await etcd.peakRss.readMiB() };
  } finally {
    await etcd.stop();
  }
}

/** The value the config PUT workloads store, as etcd stores it (base64 in the JSON gateway). */
const PUT_VALUE_B64 = b64('{"max_connections":25,"enabled":true}');

/** GETs `url` from 64 connections whose think time offers half of `saturatedPerSec`. */
function measurePacedGet(
  ctx: BenchContext,
  url: string,
  saturatedPerSec: number | undefined,
): Promise<LoadResult> {
  if (saturatedPerSec === undefined) throw new Error('needs the config-get result of this run');
  const meanDelayMs = Math.round((64 * 1000) / (saturatedPerSec / 2));
  return measureHttp(ctx, {
    url,
    connections: 64,
    threads: 1,
    script: 'paced-get.lua',
    scriptArgs: () => [String(meanDelayMs)],
    probe: { method: 'GET', url, expectStatus: [200] },
  });
}

export const configWorkloads: Workload[] = [
  {
    // Peer of config-get (shown beside it, no target): etcd's range read of one key. Before the
    // bare route so config-get's A-B-A bracketing still reuses the bare run right before it.
    id: 'peer-etcd-range',
    title: 'peer: etcd 3.4 range of one key, JSON gateway, GOMAXPROCS=1 on the service CPU (64 conns)',
    unit: 'req/s',
    isBaseline: true,
    target: { reportOnly: 'peer' },
    run: (ctx) =>
      withEtcd(ctx, async (etcd) => {
        const key = b64(`/bench/${READ_NAMESPACE}/${READ_KEY}`);
        const put = await fetch(`${etcd.url}/v3/kv/put`, {
          method: 'POST',
          body: JSON.stringify({ key, value: b64('{"max":25,"idle_timeout_ms":30000}') }),
        });
        if (put.status !== 200) throw new Error(`etcd put answered ${put.status}: ${await put.text()}`);
        const body = JSON.stringify({ key });
        const range = await fetch(`${etcd.url}/v3/kv/range`, { method: 'POST', body });
        const kvs = ((await range.json()) as { kvs?: unknown[] }).kvs;
        if (kvs?.length !== 1) throw new Error(`etcd range returned ${kvs?.length ?? 0} keys`);
        return measureHttp(ctx, {
          // wrk sends a static request to the URL's path.
          url: `${etcd.url}/v3/kv/range`,
          connections: 64,
          threads: 1,
          headers: {},
          script: 'etcd-range.lua',
          scriptArgs: () => [key],
          probe: { method: 'POST', url: `${etcd.url}/v3/kv/range`, body, expectStatus: [200] },
        });
      }),
  },
  {
    id: 'baseline-fastify',
    title: 'bare Fastify route, same JSON (64 conns)',
    unit: 'req/s',
    isBaseline: true,
    target: {},
    run: (ctx) =>
      withBareFastify(ctx, (url) =>
        measureHttp(ctx, {
          url,
          connections: 64,
          threads: 1,
          probe: { method: 'GET', url, expectStatus: [200] },
        }),
      ),
  },
  {
    id: 'config-get',
    title: 'config GET one key, REST, cache hit, RS256 JWT verified (64 conns)',
    unit: 'req/s',
    service: 'config',
    baseline: 'baseline-fastify',
    peer: 'peer-etcd-range',
    // p99 at saturation is reported, not judged: with 64 closed-loop connections the mean latency
    // is 64 / throughput (Little's law), ≥ 5 ms for anything under 12,800 req/s — the bare route
    // included. The p99 target is judged on config-get-paced below. Issue 13: ≥ 75% of the bare route.
    target: { minRatio: 0.75 },
    async run(ctx) {
      await readKeyBody(ctx);
      const url = `${serviceOf(ctx, 'config').restUrl}/api/v1/config/${READ_NAMESPACE}/${READ_KEY}`;
      return {
        result: await measureHttp(ctx, {
          url,
          connections: 64,
          threads: 1,
          probe: { method: 'GET', url, expectStatus: [200] },
        }),
      };
    },
  },
  {
    // Right after config-get, as it always was. Placed right after another saturating run of the
    // config-server, this row once read p99 144–443 ms: the cached key's TTL expired inside it and
    // every request missed at once (fixed: single-flight reads, docs/DECISIONS.md "Per-request
    // promises and strings").
    id: 'config-get-paced',
    title: 'config GET as above, paced to half the saturated rate (64 conns, random think time)',
    unit: 'req/s',
    service: 'config',
    baseline: 'config-get',
    target: { maxP99Ms: 5 },
    async run(ctx, saturatedPerSec) {
      await readKeyBody(ctx);
      const url = `${serviceOf(ctx, 'config').restUrl}/api/v1/config/${READ_NAMESPACE}/${READ_KEY}`;
      return { result: await measurePacedGet(ctx, url, saturatedPerSec) };
    },
  },
  {
    // What this machine's scheduling costs a trivial server at the same offered rate: the floor
    // under the row above.
    id: 'diag-fastify-paced',
    title: 'diagnostic: bare Fastify route paced like the row above',
    unit: 'req/s',
    isBaseline: true,
    baseline: 'config-get',
    target: {},
    run: (ctx, saturatedPerSec) => withBareFastify(ctx, (url) => measurePacedGet(ctx, url, saturatedPerSec)),
  },
  {
    id: 'config-get-grpc',
    title: 'config GetConfig, gRPC, cache hit, h2load (64 in flight: 4 HTTP/2 conns × 16 streams)',
    unit: 'req/s',
    service: 'config',
    baseline: 'config-get',
    // Issue 13: ≥ 80% of the REST GET of the same key (config-get, this run). The REST GET is
    // measured again right before and right after this row (A-B-A): measured once, rows earlier,
    // it swung from 8.8k to 17.3k req/s within 20 minutes on this shared machine, and this ratio
    // with it. Not placed right after the REST row: the paced row must follow that row's idle gap
    // (see config-get-paced).
    bracket: true,
    target: { minRatio: 0.8 },
    async run(ctx) {
      await readKeyBody(ctx);
      const message = toBinary(
        configV1.GetConfigRequestSchema,
        create(configV1.GetConfigRequestSchema, { namespace: READ_NAMESPACE, key: READ_KEY }),
      );
      const load = await runH2load(
        {
          url: `${serviceOf(ctx, 'config').grpcUrl}/${ConfigService.typeName}/GetConfig`,
          message,
          headers: { authorization: `Bearer ${ctx.token}` },
          clients: 4,
          streams: 16,
          warmupSec: ctx.settings.warmupSec,
          durationSec: ctx.settings.durationSec,
          workDir: ctx.workDir,
        },
        ctx.log,
      );
      // h2load does not read grpc-status: an error is trailers-only (no DATA), an entry carries
      // its namespace, key and value.
      if (load.dataBytesPerRequest < READ_NAMESPACE.length + READ_KEY.length) {
        throw new Error(
          `GetConfig answered ${load.dataBytesPerRequest.toFixed(0)} bytes per call: not an entry`,
        );
      }
      const elapsedSec = ctx.settings.durationSec;
      const ops = Math.round(load.requestsPerSec * elapsedSec);
      return {
        result: {
          ops,
          units: ops,
          elapsedSec,
          errors: load.failed + load.errored,
          ...(load.meanMs !== undefined ? { note: `h2load mean latency ${load.meanMs.toFixed(2)} ms` } : {}),
        },
      };
    },
  },
  {
    id: 'config-get-grpc-node',
    title: 'diagnostic: the same GetConfig load from a Node Connect client (64 in flight, 4 HTTP/2 conns)',
    unit: 'req/s',
    service: 'config',
    baseline: 'config-get',
    target: { reportOnly: 'client-bound diagnostic' },
    run: timedNodeLoad(
      (ctx) => ({
        kind: 'grpc-get-config',
        grpcUrl: serviceOf(ctx, 'config').grpcUrl,
        token: ctx.token,
        namespace: READ_NAMESPACE,
        key: READ_KEY,
        concurrency: 64,
        connections: 4,
      }),
      readKeyBody,
    ),
  },
  {
    // Peer of config-put: etcd puts of keys that did not exist, as config-put creates new keys
    // (version 0). Both acknowledge after an fsync: etcd's WAL, PostgreSQL's commit.
    id: 'peer-etcd-put',
    title: 'peer: etcd 3.4 put of a new key, JSON gateway, GOMAXPROCS=1 on the service CPU (64 conns)',
    unit: 'req/s',
    isBaseline: true,
    target: { reportOnly: 'peer' },
    run: (ctx) =>
      withEtcd(ctx, (etcd) => {
        const run = ++runNo;
        return measureHttp(ctx, {
          url: etcd.url,
          connections: 64,
          threads: 1,
          headers: {},
          script: 'etcd-put-new-key.lua',
          scriptArgs: (phase) => [`e${run}${phase === 'warmup' ? 'w' : 'm'}`],
          probe: {
            method: 'POST',
            url: `${etcd.url}/v3/kv/put`,
            body: JSON.stringify({ key: b64(`/bench/probe-${run}`), value: PUT_VALUE_B64 }),
            expectStatus: [200],
          },
        });
      }),
  },
  {
    id: 'baseline-insert-1',
    title: 'raw durable 1-row INSERT, postgres.js (16 writers)',
    unit: 'tx/s',
    isBaseline: true,
    target: {},
    run: rawInsertRun(1, 'raw1'),
  },
  {
    id: 'config-put',
    title: 'config PUT new key, durable: entry + change log + outbox (64 conns)',
    unit: 'req/s',
    service: 'config',
    baseline: 'baseline-insert-1',
    peer: 'peer-etcd-put',
    // Issue 13: ≥ 1.0× etcd put (the 40% of the raw INSERT is the earlier target, kept).
    target: { minRatio: 0.4, minPeerRatio: 1 },
    async run(ctx) {
      const { restUrl } = serviceOf(ctx, 'config');
      const run = ++runNo;
      const result = await measureHttp(ctx, {
        url: restUrl,
        connections: 64,
        threads: 1,
        script: 'config-put-new-key.lua',
        scriptArgs: (phase) => [WRITE_NAMESPACE, `k${run}${phase === 'warmup' ? 'w' : 'm'}`],
        probe: {
          method: 'PUT',
          url: `${restUrl}/api/v1/config/${WRITE_NAMESPACE}/probe-${run}`,
          body: JSON.stringify({ value: { max_connections: 25 }, version: 0 }),
          expectStatus: [201],
        },
      });
      return { result };
    },
  },
  {
    // PostgreSQL serializes the commits of transactions that NOTIFY (a global lock held through
    // the commit's WAL flush); this shows what that alone costs the write paths.
    id: 'diag-insert-notify',
    title: 'diagnostic: raw durable 1-row INSERT + pg_notify in the same transaction (16 writers)',
    unit: 'tx/s',
    isBaseline: true,
    baseline: 'baseline-insert-1',
    target: {},
    run: rawInsertRun(1, 'rawn', true),
  },
  {
    id: 'config-watch',
    title: 'WatchConfig: 1,000 open streams, one PUT (10 rounds after 3 warm-up rounds)',
    unit: 'notifications',
    service: 'config',
    target: { noErrors: true, maxP99Ms: 100 },
    async run(ctx) {
      const config = serviceOf(ctx, 'config');
      const result = await runNodeLoad({
        kind: 'watch-fan-out',
        grpcUrl: config.grpcUrl,
        restUrl: config.restUrl,
        token: ctx.token,
        namespace: WATCH_NAMESPACE,
        key: WATCH_KEY,
        streams: 1000,
        connections: 10,
        warmupRounds: 3,
        rounds: 10,
      });
      return { result };
    },
  },
  {
    // Issue 13: 10,000 open streams, one PUT, every stream notified, p99 < 100 ms. The streams are
    // spread over 20 HTTP/2 connections (500 each): the server sets no stream cap (Node's default
    // SETTINGS_MAX_CONCURRENT_STREAMS is 2^32-1), but each session's memory is bounded
    // (maxSessionMemory, 10 MB) on both ends. Latency is counted from the PUT's answer (the commit
    // acknowledged), so it is the fan-out's, not the write's; the note gives it from sending too.
    id: 'config-watch-10k',
    title: 'WatchConfig: 10,000 open streams (20 conns), one PUT (5 rounds after 2 warm-up rounds)',
    unit: 'notifications',
    service: 'config',
    target: { noErrors: true, maxP99Ms: 100 },
    async run(ctx) {
      const config = serviceOf(ctx, 'config');
      const result = await runNodeLoad({
        kind: 'watch-fan-out',
        grpcUrl: config.grpcUrl,
        restUrl: config.restUrl,
        token: ctx.token,
        namespace: `${WATCH_NAMESPACE}10k`,
        key: WATCH_KEY,
        streams: 10_000,
        connections: 20,
        warmupRounds: 2,
        rounds: 5,
        latencyFrom: 'put-answered',
      });
      return { result };
    },
  },
];
