import { describe, expect, it } from 'vitest';
import { expectAppError, validationFields } from './expect-app-error.js';
import { ADMIN, NS, OPERATOR, put, setup } from './fakes.js';

describe('GetConfigHistory', () => {
  it('pages the change log newest first', async () => {
    const ctx = setup();
    for (const value of ['a', 'b', 'c', 'd', 'e']) await put(ctx, NS, 'k', value);
    await put(ctx, NS, 'other', 'x');

    const page1 = await ctx.useCases.getConfigHistory.execute({ namespace: NS, key: 'k', pageSize: 2 });
    expect(page1.changes.map((c) => c.newVersion)).toEqual([5, 4]);
    expect(page1.pagination).toEqual({ totalCount: 5, page: 1, pageSize: 2, hasNext: true });

    const page3 = await ctx.useCases.getConfigHistory.execute({
      namespace: NS,
      key: 'k',
      page: 3,
      pageSize: 2,
    });
    expect(page3.changes.map((c) => c.newValue)).toEqual(['a']);
    expect(page3.changes[0]?.changeType).toBe('CREATED');
    expect(page3.pagination.hasNext).toBe(false);
  });

  it('stays readable after a delete', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'a');
    await ctx.useCases.deleteConfig.execute({ namespace: NS, key: 'k', actor: ADMIN });
    const history = await ctx.useCases.getConfigHistory.execute({ namespace: NS, key: 'k' });
    expect(history.changes.map((c) => c.changeType)).toEqual(['DELETED', 'CREATED']);
  });

  it('answers KEY_NOT_FOUND for a key that never had a change', async () => {
    const ctx = setup();
    await expectAppError(
      ctx.useCases.getConfigHistory.execute({ namespace: NS, key: 'never' }),
      'not_found',
      'KEY_NOT_FOUND',
    );
  });

  it('gives an empty page for an existing key whose history retention removed', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'a');
    ctx.store.prune(10n);
    const history = await ctx.useCases.getConfigHistory.execute({ namespace: NS, key: 'k' });
    expect(history.changes).toEqual([]);
    expect(history.pagination.totalCount).toBe(0);
  });

  it('validates paging and the address', async () => {
    const ctx = setup();
    expect(
      await validationFields(ctx.useCases.getConfigHistory.execute({ namespace: NS, key: 'k', page: 0 })),
    ).toEqual(['page']);
    expect(
      await validationFields(ctx.useCases.getConfigHistory.execute({ namespace: 'x', key: 'k' })),
    ).toEqual(['namespace']);
  });
});

describe('RollbackConfig', () => {
  it('writes the value of to_version as a new version under the optimistic check', async () => {
    const ctx = setup();
    await ctx.useCases.updateConfig.execute({
      namespace: NS,
      key: 'k',
      value: { pool: 10 },
      version: 0,
      description: 'pool',
      actor: ADMIN,
    });
    await put(ctx, NS, 'k', { pool: 20 });
    await put(ctx, NS, 'k', { pool: 30 });

    const result = await ctx.useCases.rollbackConfig.execute({
      namespace: NS,
      key: 'k',
      toVersion: 1,
      version: 3,
      actor: OPERATOR,
    });
    expect(result.created).toBe(false);
    expect(result.entry).toMatchObject({
      value: { pool: 10 },
      version: 4,
      description: 'pool',
      updatedBy: OPERATOR,
    });
    expect(result.change).toMatchObject({
      changeType: 'UPDATED',
      oldValue: { pool: 30 },
      newValue: { pool: 10 },
      oldVersion: 3,
      newVersion: 4,
      changedBy: OPERATOR,
    });
    expect(ctx.store.changes).toHaveLength(4);
  });

  it('answers VERSION_CONFLICT on a stale version', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'a');
    await put(ctx, NS, 'k', 'b');
    await expectAppError(
      ctx.useCases.rollbackConfig.execute({
        namespace: NS,
        key: 'k',
        toVersion: 1,
        version: 1,
        actor: OPERATOR,
      }),
      'conflict',
      'VERSION_CONFLICT',
      [{ field: 'version', message: '期待値: 1, 現在値: 2' }],
    );
  });

  it('answers VERSION_NOT_FOUND for a version the key never had', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'a');
    await expectAppError(
      ctx.useCases.rollbackConfig.execute({
        namespace: NS,
        key: 'k',
        toVersion: 7,
        version: 1,
        actor: OPERATOR,
      }),
      'not_found',
      'VERSION_NOT_FOUND',
      [{ field: 'to_version', message: 'バージョン 7 は変更履歴にありません' }],
    );
  });

  it('answers KEY_NOT_FOUND for a key that never existed', async () => {
    const ctx = setup();
    await expectAppError(
      ctx.useCases.rollbackConfig.execute({
        namespace: NS,
        key: 'k',
        toVersion: 1,
        version: 0,
        actor: OPERATOR,
      }),
      'not_found',
      'KEY_NOT_FOUND',
    );
  });

  it('restores a deleted key with version 0 as a new entry, from its last lifetime', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'first-life');
    await ctx.useCases.deleteConfig.execute({ namespace: NS, key: 'k', actor: ADMIN });
    await put(ctx, NS, 'k', 'second-v1');
    const secondV2 = await put(ctx, NS, 'k', 'second-v2');
    await ctx.useCases.deleteConfig.execute({ namespace: NS, key: 'k', actor: ADMIN });

    const restored = await ctx.useCases.rollbackConfig.execute({
      namespace: NS,
      key: 'k',
      toVersion: 1,
      version: 0,
      actor: OPERATOR,
    });
    expect(restored.created).toBe(true);
    expect(restored.entry).toMatchObject({ value: 'second-v1', version: 1, createdBy: OPERATOR });
    expect(restored.entry.id).not.toBe(secondV2.entry.id);
    expect(restored.change.changeType).toBe('CREATED');
  });

  it('refuses to restore a deleted key unless version is 0', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'a');
    await ctx.useCases.deleteConfig.execute({ namespace: NS, key: 'k', actor: ADMIN });
    await expectAppError(
      ctx.useCases.rollbackConfig.execute({
        namespace: NS,
        key: 'k',
        toVersion: 1,
        version: 1,
        actor: OPERATOR,
      }),
      'not_found',
      'KEY_NOT_FOUND',
    );
  });

  it('looks versions up in the live entry only, not in an earlier lifetime of the key', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'old-v1');
    await put(ctx, NS, 'k', 'old-v2');
    await ctx.useCases.deleteConfig.execute({ namespace: NS, key: 'k', actor: ADMIN });
    await put(ctx, NS, 'k', 'new-v1');
    await expectAppError(
      ctx.useCases.rollbackConfig.execute({
        namespace: NS,
        key: 'k',
        toVersion: 2,
        version: 1,
        actor: OPERATOR,
      }),
      'not_found',
      'VERSION_NOT_FOUND',
    );
  });

  it('refuses a restored value that no longer fits the value rules', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'a long value');
    await put(ctx, NS, 'k', 'x');
    const strict = setup({ ...ctx.deps, rules: { ...ctx.deps.rules, maxValueBytes: 5 } });
    expect(
      await validationFields(
        strict.useCases.rollbackConfig.execute({
          namespace: NS,
          key: 'k',
          toVersion: 1,
          version: 2,
          actor: OPERATOR,
        }),
      ),
    ).toEqual(['value']);
  });

  it('invalidates the cache', async () => {
    const ctx = setup();
    await put(ctx, NS, 'k', 'a');
    await put(ctx, NS, 'k', 'b');
    await ctx.useCases.getConfig.execute({ namespace: NS, key: 'k' });
    await ctx.useCases.rollbackConfig.execute({
      namespace: NS,
      key: 'k',
      toVersion: 1,
      version: 2,
      actor: OPERATOR,
    });
    expect((await ctx.useCases.getConfig.execute({ namespace: NS, key: 'k' })).value).toBe('a');
  });

  it('validates to_version and version', async () => {
    const ctx = setup();
    expect(
      await validationFields(
        ctx.useCases.rollbackConfig.execute({
          namespace: NS,
          key: 'k',
          toVersion: 0,
          version: -1,
          actor: OPERATOR,
        }),
      ),
    ).toEqual(['to_version', 'version']);
  });
});
