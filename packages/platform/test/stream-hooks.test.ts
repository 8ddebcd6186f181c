import { describe, expect, it } from 'vitest';
import { hookedStream, lazyStream } from '../src/streams/stream-hooks.js';

async function* numbers(n: number, failAt?: number): AsyncGenerator<number> {
  for (let i = 1; i <= n; i++) {
    if (i === failAt) throw new Error(`failed at ${i}`);
    yield i;
  }
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of stream) out.push(value);
  return out;
}

describe('hookedStream', () => {
  it('maps each message and runs done, then finally once, at the end', async () => {
    const calls: string[] = [];
    const stream = hookedStream(numbers(3), {
      message: (n) => n * 10,
      done: () => calls.push('done'),
      finally: () => calls.push('finally'),
    });
    expect(await collect(stream)).toEqual([10, 20, 30]);
    expect(calls).toEqual(['done', 'finally']);
  });

  it('ends with the error the error hook returns; finally once; done not called', async () => {
    const calls: string[] = [];
    const stream = hookedStream(numbers(3, 2), {
      error: (e) => new Error(`mapped: ${(e as Error).message}`),
      done: () => calls.push('done'),
      finally: () => calls.push('finally'),
    });
    await expect(collect(stream)).rejects.toThrow('mapped: failed at 2');
    expect(calls).toEqual(['finally']);
  });

  it('a throwing done hook ends the stream with its error (after every message)', async () => {
    const seen: number[] = [];
    const stream = hookedStream(numbers(2), {
      done: () => {
        throw new Error('shutting down');
      },
    });
    await expect(
      (async () => {
        for await (const n of stream) seen.push(n);
      })(),
    ).rejects.toThrow('shutting down');
    expect(seen).toEqual([1, 2]);
  });

  it('the consumer stopping early runs finally once and returns the source (its finally runs too)', async () => {
    const calls: string[] = [];
    async function* source() {
      try {
        yield 1;
        yield 2;
      } finally {
        calls.push('source finally');
      }
    }
    const stream = hookedStream(source(), { finally: () => calls.push('finally') });
    for await (const n of stream) if (n === 1) break;
    expect(calls).toEqual(['finally', 'source finally']);
  });

  it('a throwing message hook fails the stream through the error hook and finally', async () => {
    const calls: string[] = [];
    const stream = hookedStream(numbers(3), {
      message: (n) => {
        if (n === 2) throw new Error('bad message');
        return n;
      },
      error: (e) => new Error(`mapped: ${(e as Error).message}`),
      finally: () => calls.push('finally'),
    });
    await expect(collect(stream)).rejects.toThrow('mapped: bad message');
    expect(calls).toEqual(['finally']);
  });
});

describe('lazyStream', () => {
  it('opens on the first next(): what open throws fails that next(), not the call', async () => {
    let opened = 0;
    const stream = lazyStream(() => {
      opened++;
      throw new Error('refused');
    });
    expect(opened).toBe(0);
    await expect(collect(stream)).rejects.toThrow('refused');
    expect(opened).toBe(1);
  });

  it('passes the opened stream through, and a return() before opening never opens it', async () => {
    expect(await collect(lazyStream(() => numbers(3)))).toEqual([1, 2, 3]);
    let opened = false;
    const iterator = lazyStream(() => {
      opened = true;
      return numbers(1);
    })[Symbol.asyncIterator]();
    await iterator.return?.();
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    expect(opened).toBe(false);
  });
});
