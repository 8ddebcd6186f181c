import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { anySignal } from '../src/runtime/any-signal.js';

describe('anySignal', () => {
  it('aborts with the reason of whichever source aborts first', () => {
    const a = new AbortController();
    const b = new AbortController();
    const either = anySignal([a.signal, b.signal]);
    expect(either.signal.aborted).toBe(false);
    b.abort('shutting down');
    expect(either.signal.aborted).toBe(true);
    expect(either.signal.reason).toBe('shutting down');
    either.dispose();
  });

  it('is aborted at once when a source already is', () => {
    const done = new AbortController();
    done.abort('gone');
    const either = anySignal([new AbortController().signal, done.signal]);
    expect(either.signal.reason).toBe('gone');
  });

  it('leaves no listener on a long-lived source once disposed (what AbortSignal.any leaks)', () => {
    const process = new AbortController();
    for (let n = 0; n < 1_000; n++) {
      const stream = new AbortController();
      const either = anySignal([stream.signal, process.signal]);
      either.signal.addEventListener('abort', () => {});
      stream.abort();
      either.dispose();
    }
    expect(getEventListeners(process.signal, 'abort')).toHaveLength(0);
    // The long-lived source still reaches a live one.
    const live = anySignal([process.signal]);
    process.abort('stop');
    expect(live.signal.reason).toBe('stop');
  });

  it('keeps one listener on a shared source however many signals combine with it', () => {
    const process = new AbortController();
    const streams = Array.from({ length: 100 }, () => {
      const stream = new AbortController();
      return { stream, either: anySignal([stream.signal, process.signal]) };
    });
    expect(getEventListeners(process.signal, 'abort')).toHaveLength(1);
    streams[0]!.stream.abort('one ended');
    streams[0]!.either.dispose();
    expect(streams[0]!.either.signal.reason).toBe('one ended');
    process.abort('stop');
    expect(streams.slice(1).every(({ either }) => either.signal.reason === 'stop')).toBe(true);
    for (const { either } of streams) either.dispose();
  });
});
