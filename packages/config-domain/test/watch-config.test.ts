import { describe, expect, it } from 'vitest';
import type { ConfigChange } from '../src/index.js';
import { expectAppError, validationFields } from './expect-app-error.js';
import { NS, put, setup, type TestContext } from './fakes.js';

const OTHER = 'system.billing.db';

async function take(iterator: AsyncIterator<ConfigChange>, count: number): Promise<ConfigChange[]> {
  const taken: ConfigChange[] = [];
  while (taken.length < count) {
    const next = await iterator.next();
    if (next.done) break;
    taken.push(next.value);
  }
  return taken;
}

/** Resolves to 'quiet' if the iterator yields nothing for a moment (the pending read stays pending). */
async function quiet(pending: Promise<IteratorResult<ConfigChange>>): Promise<'quiet' | 'yielded'> {
  const timeout = new Promise<'quiet'>((resolve) => setTimeout(() => resolve('quiet'), 20));
  return Promise.race([pending.then(() => 'yielded' as const), timeout]);
}

async function seedChanges(ctx: TestContext, count: number, namespace = NS) {
  for (let i = 1; i <= count; i++) await put(ctx, namespace, `k${i}`, i);
}

const revisions = (changes: ConfigChange[]) => changes.map((c) => c.revision);

describe('WatchConfig live', () => {
  it('delivers changes committed after the stream opened, in order, and nothing earlier', async () => {
    const ctx = setup();
    await seedChanges(ctx, 2);
    const controller = new AbortController();
    const stream = ctx.useCases.watchConfig.execute({ signal: controller.signal });
    const first = stream.next(); // opens the stream
    await put(ctx, NS, 'live', 1);
    await ctx.useCases.deleteConfig.execute({ namespace: NS, key: 'k1', actor: 'a' });
    expect((await first).value).toMatchObject({ revision: 3n, key: 'live', changeType: 'CREATED' });
    expect(await take(stream, 1)).toMatchObject([{ revision: 4n, key: 'k1', changeType: 'DELETED' }]);
    controller.abort();
  });

  it('filters by exact namespace; empty list = all', async () => {
    const ctx = setup();
    const controller = new AbortController();
    const filtered = ctx.useCases.watchConfig.execute({ namespaces: [OTHER], signal: controller.signal });
    const all = ctx.useCases.watchConfig.execute({ namespaces: [], signal: controller.signal });
    const firstFiltered = filtered.next();
    const firstAll = all.next();
    await put(ctx, NS, 'a', 1);
    await put(ctx, 'system.billing.db.replica', 'b', 1); // longer namespace: not an exact match
    await put(ctx, OTHER, 'c', 1);
    expect((await firstFiltered).value?.key).toBe('c');
    expect([(await firstAll).value?.key, ...(await take(all, 2)).map((c) => c.key)]).toEqual(['a', 'b', 'c']);
    controller.abort();
  });

  it('never repeats a revision the feed delivers twice', async () => {
    const ctx = setup();
    const controller = new AbortController();
    const stream = ctx.useCases.watchConfig.execute({ signal: controller.signal });
    const first = stream.next();
    await put(ctx, NS, 'a', 1);
    ctx.store.redeliver(ctx.store.changes[0] as ConfigChange);
    await put(ctx, NS, 'b', 1);
    expect((await first).value?.revision).toBe(1n);
    expect(revisions(await take(stream, 1))).toEqual([2n]);
    controller.abort();
  });
});

describe('WatchConfig replay', () => {
  it('replays every change after from_revision, then continues live', async () => {
    const ctx = setup();
    await seedChanges(ctx, 5);
    const controller = new AbortController();
    const stream = ctx.useCases.watchConfig.execute({ fromRevision: 2n, signal: controller.signal });
    expect(revisions(await take(stream, 3))).toEqual([3n, 4n, 5n]);
    const live = stream.next();
    await put(ctx, NS, 'live', 1);
    expect((await live).value?.revision).toBe(6n);
    controller.abort();
  });

  it('replays from 0 = everything, in pages', async () => {
    const ctx = setup({ watch: { replayPageSize: 2 } });
    await seedChanges(ctx, 5);
    const controller = new AbortController();
    const stream = ctx.useCases.watchConfig.execute({ fromRevision: 0n, signal: controller.signal });
    expect(revisions(await take(stream, 5))).toEqual([1n, 2n, 3n, 4n, 5n]);
    expect(await quiet(stream.next())).toBe('quiet');
    expect(ctx.store.calls.changesAfter).toBe(3); // 2 + 2 + 1
    controller.abort();
  });

  it('has no duplicate when a change lands in both the log read and the live feed', async () => {
    const ctx = setup();
    await seedChanges(ctx, 3);
    // Committed after the subscription but before the log query: the feed buffers it AND the
    // replay reads it.
    ctx.store.beforeNextChangesAfter = async () => {
      await put(ctx, NS, 'boundary', 1);
    };
    const controller = new AbortController();
    const stream = ctx.useCases.watchConfig.execute({ fromRevision: 1n, signal: controller.signal });
    expect(revisions(await take(stream, 3))).toEqual([2n, 3n, 4n]);
    const next = stream.next();
    await put(ctx, NS, 'after', 1);
    expect((await next).value?.revision).toBe(5n);
    controller.abort();
  });

  it('has no gap when a change commits after the last log read', async () => {
    const ctx = setup();
    await seedChanges(ctx, 3);
    // Committed after the log query ran: only the live feed has it.
    ctx.store.afterNextChangesAfter = async () => {
      await put(ctx, NS, 'boundary', 1);
    };
    const controller = new AbortController();
    const stream = ctx.useCases.watchConfig.execute({ fromRevision: 1n, signal: controller.signal });
    expect(revisions(await take(stream, 3))).toEqual([2n, 3n, 4n]);
    expect(await quiet(stream.next())).toBe('quiet');
    controller.abort();
  });

  it('filters the replay and the live part by namespace alike', async () => {
    const ctx = setup({ watch: { replayPageSize: 1 } });
    await put(ctx, NS, 'a', 1); // 1
    await put(ctx, OTHER, 'b', 1); // 2
    await put(ctx, NS, 'c', 1); // 3
    await put(ctx, OTHER, 'd', 1); // 4
    const controller = new AbortController();
    const stream = ctx.useCases.watchConfig.execute({
      namespaces: [OTHER],
      fromRevision: 0n,
      signal: controller.signal,
    });
    expect(revisions(await take(stream, 2))).toEqual([2n, 4n]);
    const next = stream.next();
    await put(ctx, NS, 'e', 1); // 5, filtered out
    await put(ctx, OTHER, 'f', 1); // 6
    expect((await next).value?.revision).toBe(6n);
    controller.abort();
  });

  it('replays across revision gaps', async () => {
    const ctx = setup();
    await put(ctx, NS, 'a', 1); // 1
    ctx.store.skipRevisions(5n);
    await put(ctx, NS, 'b', 1); // 7
    const controller = new AbortController();
    const stream = ctx.useCases.watchConfig.execute({ fromRevision: 3n, signal: controller.signal });
    expect(revisions(await take(stream, 1))).toEqual([7n]);
    controller.abort();
  });

  it('fails with REVISION_COMPACTED when the log no longer holds what follows from_revision', async () => {
    const ctx = setup();
    await seedChanges(ctx, 6);
    ctx.store.prune(5n); // revisions 1..4 are gone
    const error = await expectAppError(
      take(ctx.useCases.watchConfig.execute({ fromRevision: 3n }), 1),
      'failed_precondition',
      'REVISION_COMPACTED',
      [{ field: 'from_revision', message: '要求: 3, 保持されている最古のリビジョン: 5' }],
    );
    expect(error.message).toContain('再取得');
    expect(ctx.store.listenerCount).toBe(0);

    // from_revision 4 needs 5.. which is all still there.
    const controller = new AbortController();
    const stream = ctx.useCases.watchConfig.execute({ fromRevision: 4n, signal: controller.signal });
    expect(revisions(await take(stream, 2))).toEqual([5n, 6n]);
    controller.abort();
  });
});

describe('WatchConfig lifetime', () => {
  it('ends and unsubscribes when aborted while waiting for changes', async () => {
    const ctx = setup();
    const controller = new AbortController();
    const stream = ctx.useCases.watchConfig.execute({ signal: controller.signal });
    const pending = stream.next();
    expect(ctx.store.listenerCount).toBe(1);
    controller.abort();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(ctx.store.listenerCount).toBe(0);
  });

  it('ends during replay when aborted between changes', async () => {
    const ctx = setup();
    await seedChanges(ctx, 3);
    const controller = new AbortController();
    const stream = ctx.useCases.watchConfig.execute({ fromRevision: 0n, signal: controller.signal });
    expect(revisions(await take(stream, 1))).toEqual([1n]);
    controller.abort();
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(ctx.store.listenerCount).toBe(0);
  });

  it('never subscribes when already aborted', async () => {
    const ctx = setup();
    const stream = ctx.useCases.watchConfig.execute({ signal: AbortSignal.abort() });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
    expect(ctx.store.listenerCount).toBe(0);
  });

  it('unsubscribes when the consumer stops iterating', async () => {
    const ctx = setup();
    await seedChanges(ctx, 3);
    for await (const change of ctx.useCases.watchConfig.execute({ fromRevision: 0n })) {
      expect(ctx.store.listenerCount).toBe(1);
      if (change.revision === 2n) break;
    }
    expect(ctx.store.listenerCount).toBe(0);
  });

  it('ends with UNAVAILABLE when the feed breaks, and unsubscribes', async () => {
    const ctx = setup();
    const stream = ctx.useCases.watchConfig.execute({});
    const pending = stream.next();
    ctx.store.breakFeed(new Error('LISTEN connection lost'));
    const error = await expectAppError(pending, 'unavailable', 'UNAVAILABLE');
    expect((error.cause as Error).message).toBe('LISTEN connection lost');
    expect(ctx.store.listenerCount).toBe(0);
  });

  it('ends with UNAVAILABLE instead of buffering without bound behind a slow consumer', async () => {
    const ctx = setup({ watch: { maxBufferedChanges: 2 } });
    const stream = ctx.useCases.watchConfig.execute({});
    const first = stream.next();
    await put(ctx, NS, 'a', 1); // handed straight to the waiting reader
    expect((await first).value?.revision).toBe(1n);
    await put(ctx, NS, 'b', 1);
    await put(ctx, NS, 'c', 1);
    await put(ctx, NS, 'd', 1); // third while nobody reads: over capacity
    await expectAppError(stream.next(), 'unavailable', 'UNAVAILABLE');
    expect(ctx.store.listenerCount).toBe(0);
  });

  it('validates the namespace filter and from_revision', async () => {
    const ctx = setup();
    expect(
      await validationFields(
        take(ctx.useCases.watchConfig.execute({ namespaces: [NS, 'bad'], fromRevision: -1n }), 1),
      ),
    ).toEqual(['namespaces[1]', 'from_revision']);
    expect(ctx.store.listenerCount).toBe(0);
  });
});
