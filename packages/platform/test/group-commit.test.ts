import { describe, expect, it } from 'vitest';
import { GroupCommit, type GroupOutcome } from '../src/db/group-commit.js';

interface Gate {
  promise: Promise<void>;
  open(): void;
}

function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** A commit function that records its batches and waits for the test to let each one finish. */
function recorder(decide: (request: string) => GroupOutcome<string> = (r) => ({ kind: 'done', value: r })) {
  const batches: string[][] = [];
  const gates: Gate[] = [];
  const commit = async (batch: readonly string[]) => {
    batches.push([...batch]);
    const g = gate();
    gates.push(g);
    await g.promise;
    return batch.map(decide);
  };
  return { batches, gates, commit };
}

const options = { maxCount: 100, maxBytes: 1_000, sizeOf: (r: string) => r.length, maxInFlight: 1 };
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit', () => {
  it('starts a lone request at once and batches the requests that arrive while it commits', async () => {
    const r = recorder();
    const group = new GroupCommit(r.commit, options);
    const first = group.submit('a');
    // Synchronously: no timer, no tick waited.
    expect(r.batches).toEqual([['a']]);
    const rest = ['b', 'c', 'd'].map((x) => group.submit(x));
    expect(group.waiting).toBe(3);
    r.gates[0]!.open();
    expect(await first).toBe('a');
    await settle();
    expect(r.batches).toEqual([['a'], ['b', 'c', 'd']]);
    r.gates[1]!.open();
    expect(await Promise.all(rest)).toEqual(['b', 'c', 'd']);
  });

  it('bounds a batch by count and by bytes (a single oversized request still goes alone)', async () => {
    const r = recorder();
    const group = new GroupCommit(r.commit, { ...options, maxCount: 2, maxBytes: 5 });
    const all = [group.submit('x'), group.submit('aa'), group.submit('bb'), group.submit('ccc')];
    all.push(group.submit('dddddddd'), group.submit('e'));
    for (let i = 0; i < 5; i++) {
      r.gates[i]?.open();
      await settle();
    }
    r.gates[5]?.open();
    expect(await Promise.all(all)).toEqual(['x', 'aa', 'bb', 'ccc', 'dddddddd', 'e']);
    expect(r.batches).toEqual([['x'], ['aa', 'bb'], ['ccc'], ['dddddddd'], ['e']]);
  });

  it('answers each request with its own outcome and defers the ones the batch could not decide', async () => {
    const r = recorder((x) =>
      x.startsWith('bad')
        ? { kind: 'failed', error: new Error(x) }
        : x === 'later' && r.batches.length === 2
          ? { kind: 'deferred' }
          : { kind: 'done', value: x.toUpperCase() },
    );
    const group = new GroupCommit(r.commit, options);
    const lone = group.submit('lone');
    const results = ['ok', 'bad1', 'later', 'ok2'].map((x) => group.submit(x).catch((e: Error) => e.message));
    r.gates[0]!.open();
    await lone;
    await settle();
    r.gates[1]!.open();
    await settle();
    expect(r.batches).toEqual([['lone'], ['ok', 'bad1', 'later', 'ok2'], ['later']]);
    r.gates[2]!.open();
    expect(await Promise.all(results)).toEqual(['OK', 'bad1', 'LATER', 'OK2']);
  });

  it('may defer the first request when it decides another; a batch that decides none is an error', async () => {
    const r = recorder((x) =>
      x === 'first' && r.batches.length === 2
        ? { kind: 'deferred' }
        : { kind: 'done', value: x.toUpperCase() },
    );
    const group = new GroupCommit(r.commit, options);
    const lone = group.submit('lone');
    const results = ['first', 'second'].map((x) => group.submit(x));
    r.gates[0]!.open();
    await lone;
    await settle();
    const newer = group.submit('newer');
    r.gates[1]!.open();
    await settle();
    // Deferred ahead of newer arrivals.
    expect(r.batches).toEqual([['lone'], ['first', 'second'], ['first', 'newer']]);
    r.gates[2]!.open();
    expect(await Promise.all([...results, newer])).toEqual(['FIRST', 'SECOND', 'NEWER']);

    const none = new GroupCommit(
      async (batch: readonly string[]) => batch.map(() => ({ kind: 'deferred' as const })),
      options,
    );
    await expect(none.submit('x')).rejects.toThrow(/decide at least one/);
  });

  it('splits a batch whose commit throws until only the culprit fails', async () => {
    const batches: string[][] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const group = new GroupCommit<string, string>(async (batch) => {
      batches.push([...batch]);
      if (batch[0] === 'hold') await held;
      if (batch.includes('poison')) throw new Error('poisoned batch');
      return batch.map((x) => ({ kind: 'done', value: x }));
    }, options);
    const hold = group.submit('hold');
    const results = ['a', 'b', 'poison', 'c', 'd'].map((x) =>
      group.submit(x).then(
        (v) => `ok:${v}`,
        (e: Error) => `err:${e.message}`,
      ),
    );
    release();
    await hold;
    expect(await Promise.all(results)).toEqual(['ok:a', 'ok:b', 'err:poisoned batch', 'ok:c', 'ok:d']);
    expect(batches).toEqual([
      ['hold'],
      ['a', 'b', 'poison', 'c', 'd'],
      ['a', 'b', 'poison'],
      ['a', 'b'],
      ['poison'],
      ['c', 'd'],
    ]);
  });

  it('runs up to maxInFlight batches at the same time', async () => {
    const r = recorder();
    const group = new GroupCommit(r.commit, { ...options, maxInFlight: 2 });
    const all = ['a', 'b', 'c', 'd'].map((x) => group.submit(x));
    expect(r.batches).toEqual([['a'], ['b']]);
    r.gates[1]!.open();
    await settle();
    expect(r.batches).toEqual([['a'], ['b'], ['c', 'd']]);
    r.gates[0]!.open();
    r.gates[2]!.open();
    expect(await Promise.all(all)).toEqual(['a', 'b', 'c', 'd']);
  });
});
