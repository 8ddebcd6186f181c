import { Code, ConnectError } from '@connectrpc/connect';
import { describe, expect, it } from 'vitest';
import { backoffDelay, errorFromStatus, isTransient, toK1s0Error } from '../src/index.js';

describe('backoffDelay', () => {
  it('grows the ceiling exponentially up to the maximum, with the delay drawn below it', () => {
    const top = () => 0.999_999;
    expect(backoffDelay(0, { baseMs: 100, maxMs: 1000 }, top)).toBe(99);
    expect(backoffDelay(3, { baseMs: 100, maxMs: 1000 }, top)).toBe(799);
    expect(backoffDelay(10, { baseMs: 100, maxMs: 1000 }, top)).toBe(999);
    expect(backoffDelay(10, { baseMs: 100, maxMs: 1000 }, () => 0)).toBe(0);
  });
});

describe('error classification', () => {
  it('treats unavailable, deadline and broken connections as transient, not conflicts', () => {
    expect(isTransient(new ConnectError('down', Code.Unavailable))).toBe(true);
    expect(isTransient(new ConnectError('slow', Code.DeadlineExceeded))).toBe(true);
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(isTransient(new ConnectError('x', Code.Internal, undefined, undefined, reset))).toBe(true);
    expect(isTransient(new TypeError('fetch failed', { cause: reset }))).toBe(true);
    expect(isTransient(new ConnectError('conflict', Code.Aborted))).toBe(false);
    // connect-node's mapping of a lost connection: ABORTED with the socket error as cause.
    const hangUp = new ConnectError('socket hang up', Code.Aborted, undefined, undefined, reset);
    expect(isTransient(hangUp)).toBe(true);
    expect(toK1s0Error(hangUp).kind).toBe('unavailable');
    expect(isTransient(new ConnectError('bad', Code.InvalidArgument))).toBe(false);
  });

  it('maps the REST envelope and gRPC codes to one error kind', () => {
    const rest = errorFromStatus(409, {
      error: { code: 'SYS_CONFIG_VERSION_CONFLICT', message: 'm', details: [] },
    });
    expect(rest).toMatchObject({ kind: 'conflict', code: 'SYS_CONFIG_VERSION_CONFLICT', status: 409 });
    expect(toK1s0Error(new ConnectError('gone', Code.NotFound)).kind).toBe('not_found');
    expect(toK1s0Error(new ConnectError('exists', Code.AlreadyExists)).kind).toBe('conflict');
  });
});
