import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../src/db/index.js';
import {
  createRelayLoop,
  type DrainOutcome,
  type RelayLoop,
  type RelayLoopOptions,
} from '../src/relay/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/postgres.js';

const logger = pino({ level: 'silent' });

/** A logger that records the backoff (`retryInMs`) the loop announces for each failed attempt. */
function backoffRecorder() {
  const retryDelays: number[] = [];
  const recorder = pino(
    { level: 'warn' },
    {
      write(line: string) {
        const entry = JSON.parse(line) as { msg?: string; retryInMs?: number };
        if (entry.msg === 'relay attempt failed' && entry.retryInMs !== undefined) {
          retryDelays.push(entry.retryInMs);
        }
      },
    },
  );
  return { logger: recorder, retryDelays };
}

/**
 * A scripted work source: each drainOnce takes the next step of `script` (an outcome, or an Error
 * to throw), then 'idle' once the script is used up. Records calls, wake-up subscriptions and terms.
 */
class FakeSource {
  readonly script: Array<DrainOutcome | Error> = [];
  /** Times of drainOnce calls (ms since creation). */
  readonly drains: number[] = [];
  readonly failures: unknown[] = [];
  terms = 0;
  listening = 0;
  /** Called inside the next drainOnce, e.g. to wake the loop while it drains. */
  duringDrain: (() => void) | undefined;
  failBeginTerm = 0;
  private wake: (() => void) | undefined;
  private readonly createdAt = Date.now();

  /** Fires the wake-up the loop subscribed with (as a NOTIFY would). */
  notify(): void {
    this.wake?.();
  }

  options(): Pick<RelayLoopOptions, 'listen' | 'beginTerm' | 'drainOnce' | 'onAttemptFailed'> {
    return {
      listen: (wakeUp) => {
        this.wake = wakeUp;
        this.listening++;
        return () => {
          this.listening--;
          this.wake = undefined;
        };
      },
      beginTerm: async () => {
        this.terms++;
        if (this.failBeginTerm > 0) {
          this.failBeginTerm--;
          throw new Error('checkpoint unreadable');
        }
      },
      drainOnce: async () => {
        this.drains.push(Date.now() - this.createdAt);
        const during = this.duringDrain;
        this.duringDrain = undefined;
        during?.();
        const step = this.script.shift() ?? 'idle';
        if (step instanceof Error) throw step;
        return step;
      },
      onAttemptFailed: (error) => this.failures.push(error),
    };
  }
}

let testDb: TestDatabase;
let database: Database;
const loops: RelayLoop[] = [];
const replicas: Database[] = [];

function startLoop(
  source: FakeSource,
  overrides: Partial<RelayLoopOptions> = {},
  lockKey = 'platform_test.relay_loop',
): RelayLoop {
  const loop = createRelayLoop({
    database,
    leaderLockKey: lockKey,
    logger,
    // Far beyond every wait below unless a test sets it: a prompt drain was woken, not polled.
    pollIntervalMs: 30_000,
    retryBackoff: { initialMs: 40, maxMs: 160 },
    leaderRetryIntervalMs: 100,
    ...source.options(),
    ...overrides,
  });
  loops.push(loop);
  loop.start();
  return loop;
}

/** Waits until `source` has drained `count` times, then a little longer to see that no more follow. */
async function settledAt(source: FakeSource, count: number): Promise<void> {
  await expect.poll(() => source.drains.length, { timeout: 3_000 }).toBe(count);
  await sleep(150);
  expect(source.drains).toHaveLength(count);
}

beforeAll(async () => {
  testDb = await createTestDatabase();
  database = createDatabase({ url: testDb.url, max: 2 });
});

afterEach(async () => {
  await Promise.all(loops.splice(0).map((loop) => loop.stop(500)));
  await Promise.all(replicas.splice(0).map((replica) => replica.close()));
});

afterAll(async () => {
  await database.close();
  await testDb.drop();
});

describe('createRelayLoop', () => {
  it('drains while there is more, then sleeps until woken', async () => {
    const source = new FakeSource();
    source.script.push('more', 'more', 'idle');
    startLoop(source);
    await settledAt(source, 3);

    // The safety poll is 30 s away: a drain within the wait below was woken.
    source.notify();
    await expect.poll(() => source.drains.length, { timeout: 10_000 }).toBe(4);
  });

  it('does not lose a wake-up that arrives while it drains', async () => {
    const source = new FakeSource();
    startLoop(source);
    await settledAt(source, 1);
    // The work announced during the read may have missed it: the loop must read again at once.
    source.duringDrain = () => source.notify();
    source.notify();
    await settledAt(source, 3);
  });

  it('drains again after the safety poll interval without a wake-up', async () => {
    const source = new FakeSource();
    startLoop(source, { pollIntervalMs: 100 });
    await expect.poll(() => source.drains.length, { timeout: 3_000 }).toBeGreaterThanOrEqual(4);
    const gaps = source.drains.slice(1).map((at, i) => at - source.drains[i]!);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(90);
  });

  it('retries a failed attempt after a doubling backoff, capped, and resets it after a success', async () => {
    const source = new FakeSource();
    const failures = Array.from({ length: 4 }, (_, i) => new Error(`attempt ${i + 1}`));
    source.script.push(...failures, 'idle');
    const { logger: recording, retryDelays } = backoffRecorder();
    startLoop(source, { logger: recording });
    await settledAt(source, 5);
    expect(source.failures).toEqual(failures);
    // The backoff it chose: doubling from 40, capped at 160 ...
    expect(retryDelays).toEqual([40, 80, 160, 160]);
    // ... and really waited (timer slack allows a few ms early; a loaded machine only adds).
    const gaps = source.drains.slice(1).map((at, i) => at - source.drains[i]!);
    for (const [i, gap] of gaps.entries()) expect(gap).toBeGreaterThanOrEqual(retryDelays[i]! - 5);

    source.script.push(new Error('after success'), 'idle');
    const before = source.drains.length;
    source.notify();
    await settledAt(source, before + 2);
    // A success reset it: the next failure waits the initial 40 ms again, not the capped 160.
    expect(retryDelays).toEqual([40, 80, 160, 160, 40]);
    expect(source.drains.at(-1)! - source.drains.at(-2)!).toBeGreaterThanOrEqual(35);
  });

  it('runs on one replica only; the standby takes over, listening only while it leads', async () => {
    const first = new FakeSource();
    const second = new FakeSource();
    const leader = startLoop(first);
    await expect.poll(() => leader.isLeader()).toBe(true);
    // The standby uses its own pool, as another process would.
    const replica = createDatabase({ url: testDb.url, max: 2 });
    replicas.push(replica);
    const standby = startLoop(second, { database: replica });
    await sleep(300);
    expect(standby.isLeader()).toBe(false);
    expect(second.drains).toEqual([]);
    expect(second.listening).toBe(0);
    expect(first.listening).toBe(1);

    await leader.stop();
    expect(leader.isLeader()).toBe(false);
    expect(first.listening).toBe(0);
    await expect.poll(() => standby.isLeader(), { timeout: 3_000 }).toBe(true);
    await expect.poll(() => second.drains.length).toBe(1);
    expect(second.terms).toBe(1);
    expect(second.listening).toBe(1);
  });

  it('ends a term whose beginTerm fails (unsubscribing) and tries again on the next election round', async () => {
    const source = new FakeSource();
    source.failBeginTerm = 2;
    const loop = startLoop(source);
    await expect.poll(() => source.drains.length, { timeout: 3_000 }).toBe(1);
    expect(source.terms).toBe(3);
    expect(source.listening).toBe(1);
    expect(loop.isLeader()).toBe(true);
  });

  it('flushes on stop: drains what is left, then stops well before the timeout', async () => {
    const source = new FakeSource();
    const loop = startLoop(source);
    await settledAt(source, 1);
    source.script.push('more', 'more', 'idle');
    const stoppingAt = Date.now();
    await loop.stop(60_000);
    // Once idle it stops: it does not sit out the (unreachable) timeout.
    expect(Date.now() - stoppingAt).toBeLessThan(10_000);
    expect(source.drains).toHaveLength(4);
    expect(loop.isLeader()).toBe(false);
    expect(source.listening).toBe(0);
  });

  it('keeps retrying a failing flush until the stop timeout, then gives leadership up', async () => {
    const source = new FakeSource();
    const loop = startLoop(source, { retryBackoff: { initialMs: 20, maxMs: 40 } });
    await settledAt(source, 1);
    source.script.push(...Array.from({ length: 1_000 }, () => new Error('broker down')));
    const stoppingAt = Date.now();
    await loop.stop(1_000);
    const stoppedAfter = Date.now() - stoppingAt;
    // It uses the whole flush window, then gives up (rather than hanging on the failing flush).
    expect(stoppedAfter).toBeGreaterThanOrEqual(990);
    expect(stoppedAfter).toBeLessThan(5_000);
    // Backoff ≤ 40 ms in a 1 s window: several attempts, not a give-up after the first failure.
    expect(source.failures.length).toBeGreaterThanOrEqual(3);
    expect(loop.isLeader()).toBe(false);
    const attempts = source.drains.length;
    await sleep(150);
    expect(source.drains).toHaveLength(attempts);
  });

  it('can be started again after stop, beginning a new term', async () => {
    const source = new FakeSource();
    const loop = startLoop(source);
    await settledAt(source, 1);
    await loop.stop();
    // The flush on stop drained once more.
    expect(source.drains).toHaveLength(2);
    loop.start();
    await expect.poll(() => source.drains.length, { timeout: 3_000 }).toBe(3);
    expect(source.terms).toBe(2);
    expect(loop.isLeader()).toBe(true);
  });
});
