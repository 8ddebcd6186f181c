import { describe, expect, it, vi } from 'vitest';
import type { ConfigChange } from '../src/index.js';
import { expectAppError } from './expect-app-error.js';
import { ADMIN, put, setup } from './fakes.js';

// Unit tests of the scope rules in the use cases (fakes); the app's scopes tests cover every
// route and RPC against PostgreSQL.
const IN = 'service.payment.db';
const OUT = 'service.order.db';
const SCOPES = ['service.payment.*'];

async function take(iterator: AsyncIterator<ConfigChange>, count: number): Promise<ConfigChange[]> {
  const taken: ConfigChange[] = [];
  while (taken.length < count) {
    const next = await iterator.next();
    if (next.done) break;
    taken.push(next.value);
  }
  return taken;
}

describe('scoped direct access', () => {
  it('refuses a namespace outside the scopes before looking anything up', async () => {
    const ctx = setup();
    await put(ctx, OUT, 'k', 1);
    const find = vi.spyOn(ctx.store, 'find');
    await expectAppError(
      ctx.useCases.getConfig.execute({ namespace: OUT, key: 'k', scopes: SCOPES }),
      'permission_denied',
      'PERMISSION_DENIED',
    );
    await expectAppError(
      ctx.useCases.getConfig.execute({ namespace: OUT, key: 'absent', scopes: SCOPES }),
      'permission_denied',
      'PERMISSION_DENIED',
    );
    expect(find).not.toHaveBeenCalled();
  });

  it('treats empty scopes (a malformed claim) as nothing allowed', async () => {
    const ctx = setup();
    await put(ctx, IN, 'k', 1);
    await expectAppError(
      ctx.useCases.getConfig.execute({ namespace: IN, key: 'k', scopes: [] }),
      'permission_denied',
      'PERMISSION_DENIED',
    );
  });
});

describe('scoped WatchConfig replay', () => {
  it('advances past pages that hold only changes outside the scopes, and skips nothing in scope', async () => {
    const ctx = setup({ watch: { replayPageSize: 2 } });
    await put(ctx, IN, 'first', 1); // revision 1
    for (let i = 0; i < 5; i++) await put(ctx, OUT, `o${i}`, i); // revisions 2..6: three pages of nothing
    await put(ctx, IN, 'second', 2); // revision 7
    const controller = new AbortController();
    const stream = ctx.useCases.watchConfig.execute({
      fromRevision: 0n,
      scopes: SCOPES,
      signal: controller.signal,
    });
    expect((await take(stream, 2)).map((c) => [c.revision, c.key])).toEqual([
      [1n, 'first'],
      [7n, 'second'],
    ]);
    // Live after the replay: still filtered, and no revision the replay covered comes again.
    const live = stream.next();
    await put(ctx, OUT, 'o-live', 1, ADMIN);
    await put(ctx, IN, 'third', 3, ADMIN);
    expect((await live).value).toMatchObject({ revision: 9n, key: 'third' });
    controller.abort();
  });

  it('leaves out named namespaces outside the scopes, and never widens to all when none is left', async () => {
    const ctx = setup();
    const controller = new AbortController();
    const onlyOut = ctx.useCases.watchConfig.execute({
      namespaces: [OUT],
      scopes: SCOPES,
      signal: controller.signal,
    });
    const mixed = ctx.useCases.watchConfig.execute({
      namespaces: [OUT, IN],
      scopes: SCOPES,
      signal: controller.signal,
    });
    const firstOnlyOut = onlyOut.next();
    const firstMixed = mixed.next();
    await put(ctx, OUT, 'o', 1);
    await put(ctx, IN, 'i', 1);
    expect((await firstMixed).value).toMatchObject({ namespace: IN, key: 'i' });
    controller.abort();
    // Aborted without ever yielding: the out-of-scope change never reached it.
    expect((await firstOnlyOut).done).toBe(true);
  });
});
