import { createHistogram } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigService } from '@k1s0/proto';
import type { LoadResult } from '../lib/load-result.js';
import { closeSessions, rawServerStream, rawSessions } from './raw-grpc-stream.js';
import type { LoadTask } from './tasks.js';

type Task = Extract<LoadTask, { kind: 'watch-fan-out' }>;

const OPEN_WAVE = 500;
const OPEN_WAVE_GAP_MS = 50;

/**
 * Opens `streams` WatchConfig streams on one namespace, then makes `warmupRounds` + `rounds` single PUTs of one key;
 * for each, the time from sending the PUT until each stream delivered that version.
 */
export async function watchFanOut(task: Task): Promise<LoadResult> {
  // Raw HTTP/2 readers: 1,000 Connect client streams cost the load CPU more than the server's sends.
  const sessions = rawSessions(task.grpcUrl, task.connections);
  const abort = new AbortController();
  // Per stream: the highest entry version seen for the key, and when the awaited one arrived.
  const seen = new Int32Array(task.streams);
  const arrivedAt = new Float64Array(task.streams);
  let awaited = { version: Number.POSITIVE_INFINITY, remaining: 0, done: () => {} };
  const streamErrors: string[] = [];
  // One authenticated call first: the service fetches the issuer's signing keys on first use, and
  // thousands of streams arriving on a cold key cache would all wait on (and time out with) that
  // one fetch — a start-up effect, not what the row measures.
  let version = await currentVersion(task);

  const watchers = Array.from({ length: task.streams }, async (_, index) => {
    // Streams open in waves of OPEN_WAVE, OPEN_WAVE_GAP_MS apart, so 10,000 opens do not
    // all hit the server in one burst.
    await sleep(Math.floor(index / OPEN_WAVE) * OPEN_WAVE_GAP_MS);
    try {
      await rawServerStream(
        sessions[index % sessions.length]!,
        ConfigService.method.watchConfig,
        { namespaces: [task.namespace] },
        task.token,
        (event) => {
          if (event.key !== task.key) return;
          seen[index] = event.newVersion;
          if (event.newVersion === awaited.version) {
            arrivedAt[index] = performance.now();
            if (--awaited.remaining === 0) awaited.done();
          }
        },
        abort.signal,
      );
    } catch (error) {
      if (!abort.signal.aborted && streamErrors.length < 3) streamErrors.push(String(error));
    }
  });

  const put = async () => {
    const response = await fetch(`${task.restUrl}/api/v1/config/${task.namespace}/${task.key}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${task.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: { refresh_interval_ms: version + 1 }, version }),
    });
    if (response.status !== 200 && response.status !== 201) {
      throw new Error(`PUT answered ${response.status}: ${await response.text()}`);
    }
    version++;
  };

  // Streams open asynchronously and a live watch only sees later changes: PUT until every stream
  // has seen one change (each then is known to be subscribed).
  // Opening 10,000 streams (a JWT check each) takes a while on a loaded machine.
  const primeFailures: string[] = [];
  const primeDeadline = performance.now() + Math.max(60_000, task.streams * 18);
  let primedAtStart = task.streams;
  while (seen.some((v) => v === 0)) {
    if (performance.now() > primeDeadline) {
      const open = seen.filter((v) => v !== 0).length;
      if (open === 0) {
        abort.abort();
        closeSessions(sessions);
        throw new Error(
          `no WatchConfig stream delivered in time: ${[...streamErrors, ...primeFailures.slice(0, 2)].join('; ')}`,
        );
      }
      // Measure with the streams that are open; the others count as missed in every round, so
      // the row fails on "all delivered" with the p99 of those that were.
      primedAtStart = open;
      break;
    }
    // Set-up, not measured: a PUT the service refuses while thousands of streams are opening
    // (503 when its database connect timed out behind them) is retried; the version is re-read
    // because an answer may have been lost after a commit.
    await put().catch(async (error: unknown) => {
      primeFailures.push(String(error));
      version = await currentVersion(task).catch(() => version);
    });
    await sleep(500);
  }

  const latencyFrom = task.latencyFrom ?? 'put-sent';
  const histogram = createHistogram();
  // The other reference point, for the note (both tell where the time goes).
  const otherHistogram = createHistogram();
  let delivered = 0;
  let missed = 0;
  const notes: string[] = [];
  for (let round = -task.warmupRounds; round < task.rounds; round++) {
    await sleep(200);
    arrivedAt.fill(0);
    const allArrived = new Promise<void>((resolve) => {
      awaited = { version: version + 1, remaining: task.streams, done: resolve };
    });
    const sentAt = performance.now();
    await put();
    const answeredAt = performance.now();
    const answeredMs = answeredAt - sentAt;
    const [from, otherFrom] = latencyFrom === 'put-sent' ? [sentAt, answeredAt] : [answeredAt, sentAt];
    const timedOut = await Promise.race([allArrived.then(() => false), sleep(10_000).then(() => true)]);
    if (round < 0) continue; // warm-up: waited for, not measured
    let got = 0;
    let first = Number.POSITIVE_INFINITY;
    let last = 0;
    for (const at of arrivedAt) {
      if (at === 0) continue;
      got++;
      first = Math.min(first, at - sentAt);
      last = Math.max(last, at - sentAt);
      histogram.record(Math.max(1, Math.round((at - from) * 1e6)));
      otherHistogram.record(Math.max(1, Math.round((at - otherFrom) * 1e6)));
    }
    delivered += got;
    missed += task.streams - got;
    // Where the time goes: the PUT itself, the change reaching the fan-out, the fan-out.
    const spread =
      got > 0
        ? `, PUT ${answeredMs.toFixed(0)} ms, first ${first.toFixed(0)} ms, last ${last.toFixed(0)} ms`
        : '';
    notes.push(`${got}/${task.streams}${timedOut ? ' (timeout)' : ''}${spread}`);
  }
  abort.abort();
  await Promise.all(watchers);
  closeSessions(sessions);
  return {
    ops: delivered,
    units: delivered,
    elapsedSec: 1,
    errors: missed,
    p50Ms: delivered > 0 ? histogram.percentile(50) / 1e6 : undefined,
    p99Ms: delivered > 0 ? histogram.percentile(99) / 1e6 : undefined,
    note: `${primedAtStart < task.streams ? `only ${primedAtStart}/${task.streams} streams had delivered a set-up change when the rounds began; ` : ''}notified per PUT (after ${task.warmupRounds} warm-up rounds): ${notes.join(', ')}; latency from ${
      latencyFrom === 'put-sent' ? 'sending the PUT' : "the PUT's answer (commit acknowledged)"
    }${
      delivered > 0
        ? `; p99 from ${latencyFrom === 'put-sent' ? "the PUT's answer" : 'sending the PUT'}: ${(otherHistogram.percentile(99) / 1e6).toFixed(1)} ms`
        : ''
    }`,
    ...(streamErrors.length || primeFailures.length
      ? {
          errorSamples: [
            ...streamErrors,
            ...(primeFailures.length
              ? [`${primeFailures.length} set-up PUT(s) failed while the streams opened: ${primeFailures[0]}`]
              : []),
          ],
        }
      : {}),
  };
}

async function currentVersion(task: Task): Promise<number> {
  const response = await fetch(`${task.restUrl}/api/v1/config/${task.namespace}/${task.key}`, {
    headers: { authorization: `Bearer ${task.token}` },
  });
  if (response.status === 404) return 0;
  const body = (await response.json()) as { version?: number };
  return body.version ?? 0;
}
