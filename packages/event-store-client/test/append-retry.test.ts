import postgres from 'postgres';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventStoreClient, type EventStoreClient } from '../src/index.js';
import {
  type LossyProxy,
  lossyProxy,
  type RestartableEventStore,
  restartableEventStore,
  tokenFor,
} from './support.js';

describe('append retries after a lost response', () => {
  let store: RestartableEventStore | undefined;
  let proxy: LossyProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    await store?.dispose();
    proxy = undefined;
    store = undefined;
  });

  it('writes each event once when the first response is lost, and returns the original result', async () => {
    store = await restartableEventStore();
    proxy = await lossyProxy(new URL(store.baseUrl));
    const client: EventStoreClient = createEventStoreClient({
      baseUrl: proxy.url,
      token: tokenFor('sys_operator'),
      backoff: { baseMs: 20, maxMs: 100 },
    });
    proxy.dropResponses = 1;
    const result = await client.append(
      'order-42',
      [
        { type: 'OrderPlaced', data: { total: 10 } },
        { type: 'OrderPaid', data: { amount: 10 } },
      ],
      { expectedVersion: 'no_stream' },
    );
    expect(proxy.dropped).toBe(1);
    expect(result.currentVersion).toBe(2);
    expect(result.events.map((e) => [e.version, e.type])).toEqual([
      [1, 'OrderPlaced'],
      [2, 'OrderPaid'],
    ]);

    // What is really stored: each event exactly once, with the ids the client generated.
    const sql = postgres(store.databaseUrl, { max: 1 });
    try {
      const rows = await sql<{ event_id: string; version: string }[]>`
        select event_id::text, version::text from event_store.events where stream_id = 'order-42' order by version`;
      expect(rows.map((r) => r.event_id)).toEqual(result.events.map((e) => e.id));
      expect(rows).toHaveLength(2);
    } finally {
      await sql.end();
    }

    // Without retries the same loss surfaces as an error, so the test above did exercise a retry.
    const noRetry = createEventStoreClient({
      baseUrl: proxy.url,
      token: tokenFor('sys_operator'),
      maxAttempts: 1,
    });
    proxy.dropResponses = 1;
    await expect(
      noRetry.append('order-43', [{ type: 'OrderPlaced', data: {} }], { expectedVersion: 'no_stream' }),
    ).rejects.toMatchObject({ kind: 'unavailable' });
  });

  it('reports a real conflict without retrying', async () => {
    store = await restartableEventStore();
    const client = createEventStoreClient({ baseUrl: store.baseUrl, token: tokenFor('sys_operator') });
    await client.append('cart-1', [{ type: 'Created', data: {} }], { expectedVersion: 'no_stream' });
    await expect(
      client.append('cart-1', [{ type: 'Created', data: {} }], { expectedVersion: 'no_stream' }),
    ).rejects.toMatchObject({ kind: 'conflict' });
  });
});
