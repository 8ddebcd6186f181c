import { describe, expect, it } from 'vitest';
import { ChangeBuffer } from '../src/use-cases/change-buffer.js';

type Item = { n: number };
const overflowError = new Error('overflow');
const buffer = (capacity = 10) => new ChangeBuffer<Item>(capacity, () => overflowError);

describe('ChangeBuffer', () => {
  it('hands items over in order, whether the reader waits or comes later', async () => {
    const b = buffer();
    const waiting = b.next();
    b.push({ n: 1 });
    b.push({ n: 2 });
    b.push({ n: 3 });
    expect(await waiting).toEqual({ done: false, value: { n: 1 } });
    expect(await b.next()).toEqual({ done: false, value: { n: 2 } });
    expect(await b.next()).toEqual({ done: false, value: { n: 3 } });
  });

  it('close ends a waiting reader and every later read, dropping what is queued', async () => {
    const b = buffer();
    const waiting = b.next();
    b.close();
    expect(await waiting).toEqual({ done: true, value: undefined });
    b.push({ n: 1 });
    expect(await b.next()).toEqual({ done: true, value: undefined });
  });

  it('fail rejects a waiting reader and every later read', async () => {
    const b = buffer();
    const waiting = b.next();
    const error = new Error('feed down');
    b.fail(error);
    await expect(waiting).rejects.toBe(error);
    b.push({ n: 1 });
    await expect(b.next()).rejects.toBe(error);
  });

  it('fails with the overflow error beyond capacity', async () => {
    const b = buffer(2);
    b.push({ n: 1 });
    b.push({ n: 2 });
    b.push({ n: 3 });
    await expect(b.next()).rejects.toBe(overflowError);
  });

  it('keeps the first outcome: closing after failing or failing after closing changes nothing', async () => {
    const failed = buffer();
    failed.fail(new Error('first'));
    failed.fail(new Error('second'));
    await expect(failed.next()).rejects.toThrow('first');

    const closed = buffer();
    closed.close();
    closed.fail(new Error('late'));
    expect(await closed.next()).toEqual({ done: true, value: undefined });
  });
});
