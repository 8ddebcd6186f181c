import { describe, expect, it } from 'vitest';
import { expectAppError, validationFields } from './expect-app-error.js';
import { put, setup } from './fakes.js';

async function seeded() {
  const ctx = setup({ appEnv: 'staging' });
  await put(ctx, 'system.auth.jwt', 'issuer', 'https://auth.example.com');
  await put(ctx, 'system.auth.database', 'ssl_mode', 'require');
  await put(ctx, 'system.auth.database', 'max_connections', 25);
  await put(ctx, 'business.auth-server.flags', 'beta', true);
  await put(ctx, 'system.authz.database', 'max_connections', 5);
  await put(ctx, 'system.billing', 'currency', 'JPY');
  return ctx;
}

describe('GetServiceConfig', () => {
  it('matches the name without -server against the second segment, sorted by namespace and key', async () => {
    const ctx = await seeded();
    const result = await ctx.useCases.getServiceConfig.execute({ serviceName: 'auth-server' });
    expect(result.serviceName).toBe('auth-server');
    expect(result.entries.map((e) => `${e.namespace}.${e.key}`)).toEqual([
      'business.auth-server.flags.beta',
      'system.auth.database.max_connections',
      'system.auth.database.ssl_mode',
      'system.auth.jwt.issuer',
    ]);
  });

  it('matches the plain name exactly (no prefix matching)', async () => {
    const ctx = await seeded();
    const result = await ctx.useCases.getServiceConfig.execute({ serviceName: 'auth' });
    expect(result.entries.map((e) => e.namespace)).toEqual([
      'system.auth.database',
      'system.auth.database',
      'system.auth.jwt',
    ]);
    const billing = await ctx.useCases.getServiceConfig.execute({ serviceName: 'billing-server' });
    expect(billing.entries.map((e) => e.key)).toEqual(['currency']);
  });

  it('answers SERVICE_NOT_FOUND with the seed message when nothing matches', async () => {
    const ctx = await seeded();
    const error = await expectAppError(
      ctx.useCases.getServiceConfig.execute({ serviceName: 'payment-server' }),
      'not_found',
      'SERVICE_NOT_FOUND',
    );
    expect(error.message).toBe('指定されたサービスの設定が見つかりません');
  });

  it('accepts an empty or matching environment and refuses another one', async () => {
    const ctx = await seeded();
    const get = ctx.useCases.getServiceConfig;
    await expect(get.execute({ serviceName: 'auth', environment: '' })).resolves.toBeDefined();
    await expect(get.execute({ serviceName: 'auth', environment: 'staging' })).resolves.toBeDefined();
    const error = await expectAppError(
      get.execute({ serviceName: 'auth', environment: 'prod' }),
      'validation',
      'VALIDATION_FAILED',
    );
    expect(error.details).toEqual([
      {
        field: 'environment',
        message: 'environment はサーバーの環境（staging）と一致させてください（指定値: prod）',
      },
    ]);
  });

  it('validates the service name', async () => {
    const ctx = setup();
    expect(
      await validationFields(ctx.useCases.getServiceConfig.execute({ serviceName: 'Auth Server' })),
    ).toEqual(['service_name']);
  });

  it('serves a repeated request from the cache', async () => {
    const ctx = await seeded();
    await ctx.useCases.getServiceConfig.execute({ serviceName: 'auth-server' });
    await ctx.useCases.getServiceConfig.execute({ serviceName: 'auth-server' });
    expect(ctx.store.calls.findByService).toBe(1);
  });

  // On PostgreSQL and the LRU cache: apps/config-server/test/use-case-races.test.ts.
  it('does not cache a result read before a concurrent write invalidated it', async () => {
    const ctx = await seeded();
    const realFind = ctx.store.findByService.bind(ctx.store);
    ctx.store.findByService = async (segments) => {
      const rows = await realFind(segments);
      ctx.store.findByService = realFind;
      await put(ctx, 'system.auth.jwt', 'issuer', 'https://new.example.com');
      return rows;
    };
    await ctx.useCases.getServiceConfig.execute({ serviceName: 'auth' });
    expect(ctx.cache.services.size).toBe(0);
  });
});
