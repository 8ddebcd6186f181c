import { describe, expect, it } from 'vitest';
import { configRules } from '../src/index.js';
import { expectAppError, validationFields } from './expect-app-error.js';
import { ADMIN, NS, OPERATOR, put, setup } from './fakes.js';

describe('UpdateConfig', () => {
  it('creates an absent key from version 0 as version 1, flagged created, with a CREATED change', async () => {
    const ctx = setup();
    const result = await ctx.useCases.updateConfig.execute({
      namespace: NS,
      key: 'max_connections',
      value: 25,
      version: 0,
      description: '認証サーバーの DB 最大接続数',
      actor: ADMIN,
    });
    expect(result.created).toBe(true);
    expect(result.entry).toMatchObject({
      namespace: NS,
      key: 'max_connections',
      value: 25,
      version: 1,
      description: '認証サーバーの DB 最大接続数',
      createdBy: ADMIN,
      updatedBy: ADMIN,
    });
    expect(result.change).toMatchObject({
      revision: 1n,
      changeType: 'CREATED',
      configEntryId: result.entry.id,
      oldValue: null,
      newValue: 25,
      oldVersion: 0,
      newVersion: 1,
      changedBy: ADMIN,
      changedAt: result.entry.updatedAt,
    });
    expect(await ctx.store.find(NS, 'max_connections')).toEqual(result.entry);
    expect(ctx.store.changes).toEqual([result.change]);
  });

  it('updates on a matching version: version + 1, same id and creator, UPDATED change with old and new', async () => {
    const ctx = setup();
    const created = await put(ctx, NS, 'max_connections', 25);
    const result = await ctx.useCases.updateConfig.execute({
      namespace: NS,
      key: 'max_connections',
      value: 50,
      version: 1,
      actor: OPERATOR,
    });
    expect(result.created).toBe(false);
    expect(result.entry).toMatchObject({
      id: created.entry.id,
      value: 50,
      version: 2,
      createdBy: ADMIN,
      createdAt: created.entry.createdAt,
      updatedBy: OPERATOR,
    });
    expect(result.entry.updatedAt.getTime()).toBeGreaterThan(created.entry.updatedAt.getTime());
    expect(result.change).toMatchObject({
      revision: 2n,
      changeType: 'UPDATED',
      oldValue: 25,
      newValue: 50,
      oldVersion: 1,
      newVersion: 2,
      changedBy: OPERATOR,
    });
  });

  it('keeps the description when none is sent and replaces it when one is', async () => {
    const ctx = setup();
    const update = ctx.useCases.updateConfig;
    await update.execute({
      namespace: NS,
      key: 'k',
      value: 1,
      version: 0,
      description: 'first',
      actor: ADMIN,
    });
    expect(
      (await update.execute({ namespace: NS, key: 'k', value: 2, version: 1, actor: ADMIN })).entry
        .description,
    ).toBe('first');
    const cleared = await update.execute({
      namespace: NS,
      key: 'k',
      value: 3,
      version: 2,
      description: '',
      actor: ADMIN,
    });
    expect(cleared.entry.description).toBe('');
  });

  it('answers VERSION_CONFLICT with expected vs current on a stale version, writing nothing', async () => {
    const ctx = setup();
    for (const value of [1, 2, 3, 4]) await put(ctx, NS, 'max_connections', value);
    const error = await expectAppError(
      ctx.useCases.updateConfig.execute({
        namespace: NS,
        key: 'max_connections',
        value: 50,
        version: 3,
        actor: OPERATOR,
      }),
      'conflict',
      'VERSION_CONFLICT',
      [{ field: 'version', message: '期待値: 3, 現在値: 4' }],
    );
    expect(error.message).toBe(
      '設定値が他のユーザーによって更新されています。最新のバージョンを取得してください',
    );
    expect(ctx.store.changes).toHaveLength(4);
  });

  it('answers VERSION_CONFLICT when creating (version 0) a key that exists', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 1);
    await expectAppError(
      ctx.useCases.updateConfig.execute({ namespace: NS, key: 'k', value: 2, version: 0, actor: ADMIN }),
      'conflict',
      'VERSION_CONFLICT',
      [{ field: 'version', message: '期待値: 0, 現在値: 1' }],
    );
  });

  it('answers KEY_NOT_FOUND for an absent key with a version other than 0', async () => {
    const ctx = setup();
    await expectAppError(
      ctx.useCases.updateConfig.execute({ namespace: NS, key: 'k', value: 2, version: 3, actor: ADMIN }),
      'not_found',
      'KEY_NOT_FOUND',
    );
    expect(ctx.store.changes).toHaveLength(0);
  });

  it('turns a lost compare-and-set into VERSION_CONFLICT against the new current version', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 1);
    // Another writer commits version 2 between our read and our conditional update.
    ctx.store.beforeNextWrite = async () => {
      await put(ctx, NS, 'k', 'theirs', OPERATOR);
    };
    await expectAppError(
      ctx.useCases.updateConfig.execute({ namespace: NS, key: 'k', value: 'mine', version: 1, actor: ADMIN }),
      'conflict',
      'VERSION_CONFLICT',
      [{ field: 'version', message: '期待値: 1, 現在値: 2' }],
    );
    expect((await ctx.store.find(NS, 'k'))?.value).toBe('theirs');
    expect(ctx.store.changes.map((c) => c.newValue)).toEqual([1, 'theirs']);
  });

  it('creates without reading first, and still answers VERSION_CONFLICT for a key that exists', async () => {
    const ctx = setup();
    const find = ctx.store.find.bind(ctx.store);
    let reads = 0;
    ctx.store.find = async (namespace, key) => {
      reads++;
      return find(namespace, key);
    };
    await ctx.useCases.updateConfig.execute({ namespace: NS, key: 'k', value: 1, version: 0, actor: ADMIN });
    expect(reads).toBe(0);
    await expectAppError(
      ctx.useCases.updateConfig.execute({ namespace: NS, key: 'k', value: 2, version: 0, actor: ADMIN }),
      'conflict',
      'VERSION_CONFLICT',
      [{ field: 'version', message: '期待値: 0, 現在値: 1' }],
    );
    expect(reads).toBe(1);
    expect(ctx.store.changes.map((c) => c.newValue)).toEqual([1]);
  });

  it('turns a lost create race into VERSION_CONFLICT', async () => {
    const ctx = setup();
    ctx.store.beforeNextWrite = async () => {
      await put(ctx, NS, 'k', 'theirs', OPERATOR);
    };
    await expectAppError(
      ctx.useCases.updateConfig.execute({ namespace: NS, key: 'k', value: 'mine', version: 0, actor: ADMIN }),
      'conflict',
      'VERSION_CONFLICT',
      [{ field: 'version', message: '期待値: 0, 現在値: 1' }],
    );
  });

  // On PostgreSQL: apps/config-server/test/use-case-races.test.ts.
  it('retries when the state the caller asked about comes back (re-created with the same version)', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'v1');
    // Between our read and write the key is deleted and created again: same version 1, new id.
    ctx.store.beforeNextWrite = async () => {
      await ctx.useCases.deleteConfig.execute({ namespace: NS, key: 'k', actor: OPERATOR });
      await put(ctx, NS, 'k', 'again', OPERATOR);
    };
    const result = await ctx.useCases.updateConfig.execute({
      namespace: NS,
      key: 'k',
      value: 'mine',
      version: 1,
      actor: ADMIN,
    });
    expect(result.entry).toMatchObject({ value: 'mine', version: 2 });
    expect(result.change).toMatchObject({ oldValue: 'again', configEntryId: result.entry.id });
  });

  it('gives up with VERSION_CONFLICT when the compare-and-set keeps losing', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'v1');
    let attempts = 0;
    ctx.store.update = async () => {
      attempts++;
      return { outcome: 'conflict' };
    };
    await expectAppError(
      ctx.useCases.updateConfig.execute({ namespace: NS, key: 'k', value: 'mine', version: 1, actor: ADMIN }),
      'conflict',
      'VERSION_CONFLICT',
      [{ field: 'version', message: '期待値: 1, 現在値: 1' }],
    );
    expect(attempts).toBe(3);
  });

  it('invalidates the cached entry and the service bulk results before returning', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'old');
    await ctx.useCases.getConfig.execute({ namespace: NS, key: 'k' });
    await ctx.useCases.getServiceConfig.execute({ serviceName: 'auth-server' });
    await ctx.useCases.getServiceConfig.execute({ serviceName: 'auth' });
    expect(ctx.cache.entries.size).toBe(1);
    expect(ctx.cache.services.size).toBe(2);

    await put(ctx, NS, 'k', 'new');
    expect(ctx.cache.entries.size).toBe(0);
    expect(ctx.cache.services.size).toBe(0);
    expect((await ctx.useCases.getConfig.execute({ namespace: NS, key: 'k' })).value).toBe('new');
    const bulk = await ctx.useCases.getServiceConfig.execute({ serviceName: 'auth-server' });
    expect(bulk.entries.map((e) => e.value)).toEqual(['new']);
  });

  it('leaves other services cached', async () => {
    const ctx = setup();
    await put(ctx, 'system.billing.db', 'k', 1);
    await ctx.useCases.getServiceConfig.execute({ serviceName: 'billing' });
    await put(ctx, NS, 'k', 1);
    expect([...ctx.cache.services.keys()]).toEqual(['billing']);
  });

  it('validates every field and reports them together', async () => {
    const ctx = setup();
    const fields = await validationFields(
      ctx.useCases.updateConfig.execute({
        namespace: 'system',
        key: '',
        value: null,
        version: -1,
        description: 'x'.repeat(1001),
        actor: ADMIN,
      }),
    );
    expect(fields).toEqual(['namespace', 'key', 'value', 'version', 'description']);
    expect(ctx.store.changes).toHaveLength(0);
  });

  it('requires value (seed message) and applies the configured size limit', async () => {
    const ctx = setup({ rules: configRules({ maxValueBytes: 10 }) });
    await expectAppError(
      ctx.useCases.updateConfig.execute({
        namespace: NS,
        key: 'k',
        value: undefined,
        version: 0,
        actor: ADMIN,
      }),
      'validation',
      'VALIDATION_FAILED',
      [{ field: 'value', message: 'value フィールドは必須です' }],
    );
    await put(ctx, NS, 'k', '12345678'); // 10 bytes serialized
    expect(await validationFields(put(ctx, NS, 'k', '123456789'))).toEqual(['value']);
  });
});

describe('DeleteConfig', () => {
  it('removes the entry and logs DELETED with the removed value, version → 0', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'a');
    const updated = await put(ctx, NS, 'k', 'b');
    const change = await ctx.useCases.deleteConfig.execute({ namespace: NS, key: 'k', actor: ADMIN });
    expect(change).toMatchObject({
      revision: 3n,
      changeType: 'DELETED',
      configEntryId: updated.entry.id,
      oldValue: 'b',
      newValue: null,
      oldVersion: 2,
      newVersion: 0,
      changedBy: ADMIN,
    });
    expect(await ctx.store.find(NS, 'k')).toBeUndefined();
  });

  it('answers KEY_NOT_FOUND for an absent key', async () => {
    const ctx = setup();
    await expectAppError(
      ctx.useCases.deleteConfig.execute({ namespace: NS, key: 'k', actor: ADMIN }),
      'not_found',
      'KEY_NOT_FOUND',
    );
  });

  it('invalidates the cache', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'a');
    await ctx.useCases.getConfig.execute({ namespace: NS, key: 'k' });
    await ctx.useCases.deleteConfig.execute({ namespace: NS, key: 'k', actor: ADMIN });
    await expectAppError(
      ctx.useCases.getConfig.execute({ namespace: NS, key: 'k' }),
      'not_found',
      'KEY_NOT_FOUND',
    );
  });

  it('logs what was actually removed when the entry changed meanwhile', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'a');
    ctx.store.beforeNextWrite = async () => {
      await put(ctx, NS, 'k', 'b', OPERATOR);
    };
    const change = await ctx.useCases.deleteConfig.execute({ namespace: NS, key: 'k', actor: ADMIN });
    expect(change).toMatchObject({ oldValue: 'b', oldVersion: 2 });
  });

  it('answers KEY_NOT_FOUND when someone else deleted it first', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'a');
    ctx.store.beforeNextWrite = async () => {
      await ctx.useCases.deleteConfig.execute({ namespace: NS, key: 'k', actor: OPERATOR });
    };
    await expectAppError(
      ctx.useCases.deleteConfig.execute({ namespace: NS, key: 'k', actor: ADMIN }),
      'not_found',
      'KEY_NOT_FOUND',
    );
    expect(ctx.store.changes.filter((c) => c.changeType === 'DELETED')).toHaveLength(1);
  });

  it('gives up with VERSION_CONFLICT when the compare-and-set keeps losing', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'a');
    ctx.store.remove = async () => ({ outcome: 'conflict' });
    await expectAppError(
      ctx.useCases.deleteConfig.execute({ namespace: NS, key: 'k', actor: ADMIN }),
      'conflict',
      'VERSION_CONFLICT',
    );
  });

  it('validates namespace and key', async () => {
    const ctx = setup();
    expect(
      await validationFields(ctx.useCases.deleteConfig.execute({ namespace: 'x.y', key: '', actor: ADMIN })),
    ).toEqual(['namespace', 'key']);
  });
});
