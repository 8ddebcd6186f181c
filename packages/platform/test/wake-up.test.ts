import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { CoalescedNotifier, createDatabase, type Database, wakeUp } from '../src/db/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/postgres.js';

describe('CoalescedNotifier', () => {
  it('folds every request made while a send is in flight into one follow-up send', async () => {
    const releases: (() => void)[] = [];
    let sends = 0;
    const notifier = new CoalescedNotifier(() => {
      sends++;
      return new Promise<void>((resolve) => releases.push(resolve));
    });
    notifier.request();
    for (let i = 0; i < 10; i++) notifier.request();
    expect(sends).toBe(1);
    releases.shift()?.();
    await expect.poll(() => sends).toBe(2); // the follow-up, sent after the in-flight one
    releases.shift()?.();
    await sleep(10);
    expect(sends).toBe(2);
    notifier.request(); // idle again: sent at once
    expect(sends).toBe(3);
    releases.shift()?.();
  });

  it('keeps serving requests after a failed send', async () => {
    let sends = 0;
    const notifier = new CoalescedNotifier(async () => {
      sends++;
      if (sends === 1) throw new Error('database unavailable');
    });
    notifier.request();
    await sleep(5);
    notifier.request();
    await expect.poll(() => sends).toBe(2);
  });
});

describe('wakeUp', () => {
  let testDb: TestDatabase;
  let database: Database;

  beforeAll(async () => {
    testDb = await createTestDatabase();
    database = createDatabase({ url: testDb.url, max: 4 });
  });
  afterAll(async () => {
    await database.close();
    await testDb.drop();
  });

  /** Payloads received on a channel of its own, so no other test's wake-up is in flight on it. */
  async function listen(channel: string): Promise<string[]> {
    const received: string[] = [];
    const meta = await database.sql.listen(channel, (payload) => received.push(payload));
    onTestFinished(() => meta.unlisten());
    return received;
  }

  it('wakes the listeners of the channel with an empty payload', async () => {
    const received = await listen('platform_test_wake_up_once');
    wakeUp(database, 'platform_test_wake_up_once');
    await expect.poll(() => received).toEqual(['']);
  });

  it('coalesces a burst of wake-ups into fewer notifications, one of them after the last request', async () => {
    const received = await listen('platform_test_wake_up_burst');
    for (let i = 0; i < 20; i++) wakeUp(database, 'platform_test_wake_up_burst');
    // The first goes out at once; the other 19, made while it is in flight, fold into one follow-up.
    await expect.poll(() => received.length).toBe(2);
    await sleep(100);
    expect(received).toHaveLength(2);
  });
});
