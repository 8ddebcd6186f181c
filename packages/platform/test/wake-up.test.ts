import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CoalescedNotifier,
  createDatabase,
  type Database,
  notifyAfterCommit,
  withTransaction,
} from '../src/db/index.js';
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

describe('notifyAfterCommit', () => {
  let testDb: TestDatabase;
  let database: Database;
  let received: string[];
  let unlisten: () => Promise<void>;
  const CHANNEL = 'platform_test_wake_up';

  beforeAll(async () => {
    testDb = await createTestDatabase();
    database = createDatabase({ url: testDb.url, max: 4 });
    received = [];
    const meta = await database.sql.listen(CHANNEL, (payload) => received.push(payload));
    unlisten = () => meta.unlisten();
  });
  afterAll(async () => {
    await unlisten();
    await database.close();
    await testDb.drop();
  });

  it('wakes the channel (empty payload) only once the transaction has committed', async () => {
    received.length = 0;
    await withTransaction(database, async (tx) => {
      await notifyAfterCommit(tx, CHANNEL);
      await notifyAfterCommit(tx, CHANNEL);
      await sleep(50);
      expect(received).toEqual([]);
    });
    await expect.poll(() => received).toEqual(['']);
  });

  it('sends nothing for a transaction that rolls back', async () => {
    received.length = 0;
    await expect(
      withTransaction(database, async (tx) => {
        await notifyAfterCommit(tx, CHANNEL);
        throw new Error('use case failed');
      }),
    ).rejects.toThrow('use case failed');
    await sleep(100);
    expect(received).toEqual([]);
  });

  it('notifies inside a savepoint it did not open, still delivered on commit only', async () => {
    received.length = 0;
    await withTransaction(database, (tx) =>
      tx.transaction(async (savepoint) => {
        await notifyAfterCommit(savepoint, CHANNEL);
        await sleep(50);
        expect(received).toEqual([]);
      }),
    );
    await expect.poll(() => received).toEqual(['']);
  });

  it('coalesces a burst of committing writers into fewer notifications, the last after every commit', async () => {
    received.length = 0;
    await Promise.all(
      Array.from({ length: 20 }, () => withTransaction(database, (tx) => notifyAfterCommit(tx, CHANNEL))),
    );
    await expect.poll(() => received.length).toBeGreaterThan(0);
    await sleep(100);
    expect(received.length).toBeLessThan(20);
  });
});
