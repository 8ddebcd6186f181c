import { describe, expect, it } from 'vitest';
import { REDACTED } from '../src/index.js';
import { expectAppError, validationFields } from './expect-app-error.js';
import { NS, setup } from './fakes.js';

async function secretEntry() {
  const ctx = setup();
  await ctx.useCases.updateConfig.execute({
    namespace: NS,
    key: 'password',
    value: 's3cr3t',
    version: 0,
    actor: 'op',
    secret: true,
  });
  return ctx;
}

describe('secret entries (SPEC §8)', () => {
  it('reads redact the value unless the caller may reveal secrets, also when served from the cache', async () => {
    const ctx = await secretEntry();
    const get = (revealSecrets?: boolean) =>
      ctx.useCases.getConfig.execute({ namespace: NS, key: 'password', revealSecrets });
    expect(await get(true)).toMatchObject({ value: 's3cr3t', secret: true });
    // Now cached with its plaintext: an auditor's read must still be redacted.
    expect(ctx.cache.entries.size).toBe(1);
    expect(await get(false)).toMatchObject({ value: REDACTED, secret: true });
    expect(await get()).toMatchObject({ value: REDACTED });
    expect(await get(true)).toMatchObject({ value: 's3cr3t' });

    const list = await ctx.useCases.listConfigs.execute({ namespace: NS });
    expect(list.entries.map((e) => e.value)).toEqual([REDACTED]);
    const history = await ctx.useCases.getConfigHistory.execute({ namespace: NS, key: 'password' });
    expect(history.changes[0]).toMatchObject({ oldValue: null, newValue: REDACTED, secret: true });
    const revealed = await ctx.useCases.getConfigHistory.execute({
      namespace: NS,
      key: 'password',
      revealSecrets: true,
    });
    expect(revealed.changes[0]?.newValue).toBe('s3cr3t');
    const service = await ctx.useCases.getServiceConfig.execute({ serviceName: NS.split('.')[1] ?? '' });
    expect(service.entries.map((e) => e.value)).toEqual([REDACTED]);
  });

  it('watch events are redacted per stream: replayed and live alike', async () => {
    const ctx = await secretEntry();
    const controller = new AbortController();
    const redacted = ctx.useCases.watchConfig.execute({ fromRevision: 0n, signal: controller.signal });
    const plain = ctx.useCases.watchConfig.execute({
      fromRevision: 0n,
      signal: controller.signal,
      revealSecrets: true,
    });
    expect((await redacted.next()).value).toMatchObject({ newValue: REDACTED, secret: true });
    expect((await plain.next()).value).toMatchObject({ newValue: 's3cr3t' });
    const nextRedacted = redacted.next();
    const nextPlain = plain.next();
    await ctx.useCases.updateConfig.execute({
      namespace: NS,
      key: 'password',
      value: 'n3w',
      version: 1,
      actor: 'op',
    });
    expect((await nextRedacted).value).toMatchObject({
      oldValue: REDACTED,
      newValue: REDACTED,
      secret: true,
    });
    expect((await nextPlain).value).toMatchObject({ oldValue: 's3cr3t', newValue: 'n3w' });
    controller.abort();
  });

  it('a write without `secret` keeps the flag; clearing it needs mayClearSecret', async () => {
    const ctx = await secretEntry();
    const write = (version: number, extra: { secret?: boolean; mayClearSecret?: boolean }) =>
      ctx.useCases.updateConfig.execute({
        namespace: NS,
        key: 'password',
        value: 'x',
        version,
        actor: 'op',
        ...extra,
      });
    expect((await write(1, {})).entry.secret).toBe(true);
    await expectAppError(write(2, { secret: false }), 'permission_denied', 'PERMISSION_DENIED', [
      { field: 'secret', message: 'role sys_admin required to clear the secret flag' },
    ]);
    expect((await write(2, { secret: false, mayClearSecret: true })).entry.secret).toBe(false);
  });

  it('a rollback keeps the flag, and restoring a secret version marks the entry secret again', async () => {
    const ctx = await secretEntry();
    await ctx.useCases.updateConfig.execute({
      namespace: NS,
      key: 'password',
      value: 'plain now',
      version: 1,
      actor: 'admin',
      secret: false,
      mayClearSecret: true,
    });
    const restored = await ctx.useCases.rollbackConfig.execute({
      namespace: NS,
      key: 'password',
      toVersion: 1,
      version: 2,
      actor: 'op',
    });
    expect(restored.entry).toMatchObject({ value: 's3cr3t', secret: true });
  });

  it('rejects a non-boolean secret', async () => {
    const ctx = setup();
    expect(
      await validationFields(
        ctx.useCases.updateConfig.execute({
          namespace: NS,
          key: 'k',
          value: 1,
          version: 0,
          actor: 'a',
          secret: 'yes' as never,
        }),
      ),
    ).toEqual(['secret']);
  });
});

describe('metadata (SPEC §8)', () => {
  it('is stored on the entry, kept by writes without it, replaced by writes with it, cleared by {}', async () => {
    const ctx = setup();
    const write = (version: number, metadata?: unknown) =>
      ctx.useCases.updateConfig.execute({
        namespace: NS,
        key: 'k',
        value: version,
        version,
        actor: 'a',
        metadata,
      });
    expect((await write(0, { team: 'payments', tags: ['db'] })).entry.metadata).toEqual({
      team: 'payments',
      tags: ['db'],
    });
    expect((await write(1)).entry.metadata).toEqual({ team: 'payments', tags: ['db'] });
    expect((await write(2, { team: 'core' })).entry.metadata).toEqual({ team: 'core' });
    expect((await write(3, {})).entry.metadata).toBeNull();
  });

  it('must be a JSON object of at most 16 KiB serialized', async () => {
    const ctx = setup();
    const write = (metadata: unknown) =>
      ctx.useCases.updateConfig.execute({
        namespace: NS,
        key: 'k',
        value: 1,
        version: 0,
        actor: 'a',
        metadata,
      });
    expect(await validationFields(write([1, 2]))).toEqual(['metadata']);
    expect(await validationFields(write('labels'))).toEqual(['metadata']);
    // {"l":"…"} is 8 bytes of framing.
    expect(await validationFields(write({ l: 'x'.repeat(16 * 1024 - 7) }))).toEqual(['metadata']);
    expect((await write({ l: 'x'.repeat(16 * 1024 - 8) })).entry.metadata).not.toBeNull();
  });
});
