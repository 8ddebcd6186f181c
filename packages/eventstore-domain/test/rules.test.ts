import { describe, expect, it } from 'vitest';
import { defaultAggregateType, isValidStreamId } from '../src/rules/stream-id.js';
import { isUuid, normalizeUuid } from '../src/rules/uuid.js';
import { WakeUpLatch } from '../src/use-cases/wake-up-latch.js';

describe('stream ids', () => {
  it.each(['a', 'order-order-001', 'A.b:c@d_e-f', 'x'.repeat(255)])('accepts %s', (id) => {
    expect(isValidStreamId(id)).toBe(true);
  });

  it.each(['', 'x'.repeat(256), 'a b', 'a/b', 'ä', 'a\n'])('rejects %j', (id) => {
    expect(isValidStreamId(id)).toBe(false);
  });

  it.each([
    ['order-order-001', 'order'],
    ['order', 'order'],
    ['-leading', '-leading'],
    ['a-', 'a'],
  ])('default aggregate type of %s is %s', (id, type) => {
    expect(defaultAggregateType(id)).toBe(type);
  });
});

describe('uuids', () => {
  it('accepts any version in any case and normalises to lower case', () => {
    expect(isUuid('0190b3c2-7c4e-7d5a-9f00-AbCdEf012345')).toBe(true);
    expect(isUuid('00000000-0000-0000-0000-000000000000')).toBe(true);
    expect(normalizeUuid('ABCDEF01-0000-4000-8000-000000000000')).toBe(
      'abcdef01-0000-4000-8000-000000000000',
    );
  });

  it.each(['', 'abc', '0190b3c27c4e7d5a9f00abcdef012345', '{0190b3c2-7c4e-7d5a-9f00-abcdef012345}'])(
    'rejects %j',
    (value) => {
      expect(isUuid(value)).toBe(false);
    },
  );
});

describe('WakeUpLatch', () => {
  it('resolves at once for a wake-up that came before the wait, until reset', async () => {
    const latch = new WakeUpLatch();
    latch.notify();
    await latch.wait(60_000);
    latch.reset();
    let woke = false;
    const waiting = latch.wait(60_000).then(() => {
      woke = true;
    });
    await Promise.resolve();
    expect(woke).toBe(false);
    latch.notify();
    await waiting;
    expect(woke).toBe(true);
  });

  it('resolves after the timeout and on abort', async () => {
    const latch = new WakeUpLatch();
    await latch.wait(5);
    const controller = new AbortController();
    const waiting = latch.wait(60_000, controller.signal);
    controller.abort();
    await waiting;
    await latch.wait(60_000, controller.signal);
  });
});
