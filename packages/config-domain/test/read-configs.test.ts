import { describe, expect, it } from 'vitest';
import { expectAppError, validationFields } from './expect-app-error.js';
import { NS, put, setup } from './fakes.js';

describe('GetConfig', () => {
  it('reads from the store on a miss, then serves the cached entry without touching the store', async () => {
    const ctx = setup();
    await put(ctx, NS, 'max_connections', 25);
    const findsBefore = ctx.store.calls.find;

    const first = await ctx.useCases.getConfig.execute({ namespace: NS, key: 'max_connections' });
    expect(first).toMatchObject({ value: 25, version: 1 });
    expect(ctx.store.calls.find).toBe(findsBefore + 1);

    const second = await ctx.useCases.getConfig.execute({ namespace: NS, key: 'max_connections' });
    expect(second).toEqual(first);
    expect(ctx.store.calls.find).toBe(findsBefore + 1);
    expect(ctx.cache.hits).toBe(1);
  });

  it('answers KEY_NOT_FOUND with the seed message', async () => {
    const ctx = setup();
    const error = await expectAppError(
      ctx.useCases.getConfig.execute({ namespace: NS, key: 'missing' }),
      'not_found',
      'KEY_NOT_FOUND',
      [],
    );
    expect(error.message).toBe('指定された設定キーが見つかりません');
  });

  it('validates namespace and key', async () => {
    const ctx = setup();
    expect(await validationFields(ctx.useCases.getConfig.execute({ namespace: 'nope', key: 'a b' }))).toEqual(
      ['namespace', 'key'],
    );
  });

  // On PostgreSQL and the LRU cache: apps/config-server/test/use-case-races.test.ts.
  it('does not cache a value read before a concurrent write invalidated it', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'old');
    // The store answers with the old row, but a write commits (and invalidates) before we cache it.
    const realFind = ctx.store.find.bind(ctx.store);
    ctx.store.find = async (namespace, key) => {
      const row = await realFind(namespace, key);
      ctx.store.find = realFind;
      await put(ctx, NS, 'k', 'new');
      return row;
    };
    expect((await ctx.useCases.getConfig.execute({ namespace: NS, key: 'k' })).value).toBe('old');
    expect(ctx.cache.entries.size).toBe(0);
    expect((await ctx.useCases.getConfig.execute({ namespace: NS, key: 'k' })).value).toBe('new');
  });

  it('lets concurrent misses of one key share one store read', async () => {
    const ctx = setup();
    await put(ctx, NS, 'hot', 1);
    await put(ctx, NS, 'other', 2);
    const findsBefore = ctx.store.calls.find;
    const reads = await Promise.all([
      ...Array.from({ length: 50 }, () => ctx.useCases.getConfig.execute({ namespace: NS, key: 'hot' })),
      ctx.useCases.getConfig.execute({ namespace: NS, key: 'other' }),
    ]);
    expect(reads.map((entry) => entry.value)).toEqual([...Array<number>(50).fill(1), 2]);
    expect(ctx.store.calls.find).toBe(findsBefore + 2);
  });

  it('does not hand a read that started before a write to a caller that came after it', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'old');
    const realFind = ctx.store.find.bind(ctx.store);
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    ctx.store.find = async (namespace, key) => {
      const row = await realFind(namespace, key);
      ctx.store.find = realFind;
      await held;
      return row;
    };
    const before = ctx.useCases.getConfig.execute({ namespace: NS, key: 'k' });
    await new Promise((resolve) => setImmediate(resolve));
    await put(ctx, NS, 'k', 'new');
    const after = ctx.useCases.getConfig.execute({ namespace: NS, key: 'k' });
    release();
    expect((await before).value).toBe('old');
    expect((await after).value).toBe('new');
  });

  it('fails the callers of a failed read together and reads again on the next call', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'v');
    const realFind = ctx.store.find.bind(ctx.store);
    ctx.store.find = async () => {
      ctx.store.find = realFind;
      throw new Error('database down');
    };
    const failed = await Promise.allSettled(
      Array.from({ length: 3 }, () => ctx.useCases.getConfig.execute({ namespace: NS, key: 'k' })),
    );
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect((await ctx.useCases.getConfig.execute({ namespace: NS, key: 'k' })).value).toBe('v');
  });
});

describe('ListConfigs', () => {
  async function seeded() {
    const ctx = setup();
    for (const key of ['ssl_mode', 'max_connections', 'Max_Idle', 'timeout', 'a'])
      await put(ctx, NS, key, key);
    await put(ctx, 'system.auth.jwt', 'max_age', 1);
    return ctx;
  }

  it('pages one namespace sorted by key with defaults page 1 / 20', async () => {
    const ctx = await seeded();
    const result = await ctx.useCases.listConfigs.execute({ namespace: NS });
    expect(result.entries.map((e) => e.key)).toEqual([
      'Max_Idle',
      'a',
      'max_connections',
      'ssl_mode',
      'timeout',
    ]);
    expect(result.pagination).toEqual({ totalCount: 5, page: 1, pageSize: 20, hasNext: false });
  });

  it('returns later pages and has_next', async () => {
    const ctx = await seeded();
    const page1 = await ctx.useCases.listConfigs.execute({ namespace: NS, page: 1, pageSize: 2 });
    const page3 = await ctx.useCases.listConfigs.execute({ namespace: NS, page: 3, pageSize: 2 });
    expect(page1.pagination).toEqual({ totalCount: 5, page: 1, pageSize: 2, hasNext: true });
    expect(page3.entries.map((e) => e.key)).toEqual(['timeout']);
    expect(page3.pagination.hasNext).toBe(false);
  });

  it('filters by case-insensitive key substring; empty search = all', async () => {
    const ctx = await seeded();
    const found = await ctx.useCases.listConfigs.execute({ namespace: NS, search: 'MAX' });
    expect(found.entries.map((e) => e.key)).toEqual(['Max_Idle', 'max_connections']);
    expect(found.pagination.totalCount).toBe(2);
    expect((await ctx.useCases.listConfigs.execute({ namespace: NS, search: '' })).entries).toHaveLength(5);
  });

  it('rejects out-of-range paging and oversized search, naming the fields', async () => {
    const ctx = setup();
    const list = ctx.useCases.listConfigs;
    expect(await validationFields(list.execute({ namespace: NS, page: 0 }))).toEqual(['page']);
    expect(await validationFields(list.execute({ namespace: NS, pageSize: 101 }))).toEqual(['page_size']);
    expect(await validationFields(list.execute({ namespace: NS, pageSize: 0 }))).toEqual(['page_size']);
    expect(await validationFields(list.execute({ namespace: NS, search: 'x'.repeat(256) }))).toEqual([
      'search',
    ]);
    expect(await validationFields(list.execute({ namespace: 'bad' }))).toEqual(['namespace']);
  });
});
