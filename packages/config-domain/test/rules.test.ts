import { describe, expect, it } from 'vitest';
import {
  checkDescription,
  checkExistingVersion,
  checkExpectedVersion,
  checkKey,
  checkNamespace,
  checkServiceName,
  checkValue,
  configRules,
  decidePut,
  deletionChange,
  type PageRequest,
  pageInfo,
  putRejectionError,
  resolvePage,
  serializedValueBytes,
  serviceNamesFor,
  serviceSegmentOf,
  serviceSegmentsFor,
  Violations,
} from '../src/index.js';
import { validationFields } from './expect-app-error.js';

const rules = configRules();

/** What a rule records for one input: its first violation, or undefined when the input passes. */
function problemOf(check: (violations: Violations) => void) {
  const violations = new Violations();
  check(violations);
  return violations.details[0];
}

/** resolvePage as a use case applies it: throws VALIDATION_FAILED listing the bad fields. */
function pageOrThrow(request: PageRequest) {
  const violations = new Violations();
  const page = resolvePage(violations, request);
  violations.throwIfAny();
  return page;
}

describe('namespace rule', () => {
  it.each([
    'system.auth',
    'system.auth.database',
    'business.order-svc.db_pool.primary',
    'service.a1.b-2.c_3',
  ])('accepts %s', (ns) => {
    expect(problemOf((v) => checkNamespace(v, ns, rules))).toBeUndefined();
  });

  it.each([
    ['', 'required'],
    ['system', 'one segment'],
    ['system.a.b.c.d', 'five segments > max_depth 4'],
    ['system..auth', 'empty segment'],
    ['system.auth.', 'trailing dot'],
    ['System.auth', 'uppercase'],
    ['system.au th', 'space'],
    ['system.auth:db', 'colon'],
    ['platform.auth', 'tier not allowed'],
    [`system.${'a'.repeat(250)}`, 'longer than 255'],
  ])('rejects %j (%s)', (ns) => {
    expect(problemOf((v) => checkNamespace(v, ns, rules))?.field).toBe('namespace');
  });

  it('follows configured max_depth and tiers, and names the field it is told', () => {
    const custom = configRules({ maxDepth: 2, allowedTiers: ['platform'] });
    expect(problemOf((v) => checkNamespace(v, 'platform.auth', custom))).toBeUndefined();
    expect(problemOf((v) => checkNamespace(v, 'platform.auth.db', custom))?.message).toContain('2〜2');
    expect(problemOf((v) => checkNamespace(v, 'system.auth', custom, 'namespaces[1]'))).toEqual({
      field: 'namespaces[1]',
      message: 'namespace の第1階層は platform のいずれかにしてください',
    });
  });

  it('finds the service segment', () => {
    expect(serviceSegmentOf('system.auth.database')).toBe('auth');
  });
});

describe('key rule', () => {
  it.each(['a', 'max_connections', 'A.b-C_9', 'x'.repeat(255)])('accepts %s', (key) => {
    expect(problemOf((v) => checkKey(v, key))).toBeUndefined();
  });

  it.each(['', 'x'.repeat(256), 'has space', 'a/b', 'a:b', 'ключ'])('rejects %j', (key) => {
    expect(problemOf((v) => checkKey(v, key))?.field).toBe('key');
  });
});

describe('value rule', () => {
  it.each([[0], [25], [-1.5], ['require'], [''], [true], [false], [[]], [{}], [{ a: [1, { b: null }] }]])(
    'accepts %j',
    (value) => {
      expect(problemOf((v) => checkValue(v, value, rules))).toBeUndefined();
    },
  );

  it('requires a value and refuses null with distinct messages', () => {
    expect(problemOf((v) => checkValue(v, undefined, rules))).toEqual({
      field: 'value',
      message: 'value フィールドは必須です',
    });
    expect(problemOf((v) => checkValue(v, null, rules))).toEqual({
      field: 'value',
      message: 'value に null は指定できません',
    });
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['function', () => 1],
    ['bigint', 1n],
    ['Date', new Date()],
    ['nested undefined', { a: undefined }],
    ['Map', new Map()],
  ])('refuses non-JSON %s', (_name, value) => {
    expect(problemOf((v) => checkValue(v, value, rules))?.message).toBe(
      'value は JSON の値で指定してください',
    );
  });

  it('limits the serialized size to exactly maxValueBytes (64 KiB by default)', () => {
    expect(rules.maxValueBytes).toBe(65536);
    // JSON string of n chars serializes to n + 2 bytes (the quotes).
    expect(problemOf((v) => checkValue(v, 'a'.repeat(65534), rules))).toBeUndefined();
    expect(problemOf((v) => checkValue(v, 'a'.repeat(65535), rules))?.message).toContain('65537 バイト');
  });

  it('counts UTF-8 bytes, not characters', () => {
    expect(serializedValueBytes('あ')).toBe(5); // 3 bytes + 2 quotes
    expect(serializedValueBytes({ k: '😀' })).toBe(12); // {"k":""} is 8 + 4
    const small = configRules({ maxValueBytes: 5 });
    expect(problemOf((v) => checkValue(v, 'あ', small))).toBeUndefined();
    expect(problemOf((v) => checkValue(v, 'ああ', small))).toBeDefined();
  });

  it('limits nesting without recursing (no stack overflow on absurd depth)', () => {
    const nested = (depth: number) => {
      let v: unknown = 1;
      for (let i = 0; i < depth; i++) v = [v];
      return v;
    };
    expect(problemOf((v) => checkValue(v, nested(rules.maxValueDepth), rules))).toBeUndefined();
    expect(problemOf((v) => checkValue(v, nested(rules.maxValueDepth + 1), rules))?.message).toContain(
      '入れ子',
    );
    expect(problemOf((v) => checkValue(v, nested(200_000), rules))?.message).toContain('入れ子');
  });
});

describe('description rule', () => {
  it('is optional and limited in code points', () => {
    expect(problemOf((v) => checkDescription(v, undefined, rules))).toBeUndefined();
    expect(problemOf((v) => checkDescription(v, '', rules))).toBeUndefined();
    expect(problemOf((v) => checkDescription(v, '😀'.repeat(1000), rules))).toBeUndefined(); // 2000 UTF-16 units
    expect(problemOf((v) => checkDescription(v, 'a'.repeat(1001), rules))?.field).toBe('description');
    expect(problemOf((v) => checkDescription(v, 42, rules))?.field).toBe('description');
  });
});

describe('version rules', () => {
  it('expected version: integer 0..int32 max', () => {
    expect(problemOf((v) => checkExpectedVersion(v, 0))).toBeUndefined();
    expect(problemOf((v) => checkExpectedVersion(v, 2_147_483_647))).toBeUndefined();
    for (const bad of [-1, 1.5, Number.NaN, '3', 2_147_483_648]) {
      expect(problemOf((v) => checkExpectedVersion(v, bad))?.field).toBe('version');
    }
    expect(problemOf((v) => checkExpectedVersion(v, undefined))?.message).toBe(
      'version フィールドは必須です',
    );
  });

  it('rollback target: integer ≥ 1', () => {
    expect(problemOf((v) => checkExistingVersion(v, 1))).toBeUndefined();
    expect(problemOf((v) => checkExistingVersion(v, 0))?.field).toBe('to_version');
    expect(problemOf((v) => checkExistingVersion(v, undefined))?.message).toBe(
      'to_version フィールドは必須です',
    );
  });
});

describe('pagination', () => {
  it('defaults to page 1 of 20', () => {
    expect(pageOrThrow({})).toEqual({ page: 1, pageSize: 20, offset: 0, limit: 20 });
    expect(pageOrThrow({ page: 3, pageSize: 100 })).toEqual({
      page: 3,
      pageSize: 100,
      offset: 200,
      limit: 100,
    });
  });

  it('rejects out-of-range values naming each field', async () => {
    expect(await validationFields(() => pageOrThrow({ page: 0, pageSize: 101 }))).toEqual([
      'page',
      'page_size',
    ]);
    expect(await validationFields(() => pageOrThrow({ pageSize: 0 }))).toEqual(['page_size']);
    expect(await validationFields(() => pageOrThrow({ page: 1.5 }))).toEqual(['page']);
  });

  it('computes has_next', () => {
    expect(pageInfo(1, 20, 42)).toEqual({ totalCount: 42, page: 1, pageSize: 20, hasNext: true });
    expect(pageInfo(3, 20, 42).hasNext).toBe(false);
    expect(pageInfo(2, 21, 42).hasNext).toBe(false);
  });
});

describe('service names', () => {
  it('strips one trailing -server', () => {
    expect(serviceSegmentsFor('auth-server')).toEqual(['auth-server', 'auth']);
    expect(serviceSegmentsFor('auth')).toEqual(['auth']);
    expect(serviceSegmentsFor('-server')).toEqual(['-server']);
    expect(serviceNamesFor('auth')).toEqual(['auth', 'auth-server']);
  });

  it('validates the name', () => {
    expect(problemOf((v) => checkServiceName(v, 'auth-server'))).toBeUndefined();
    expect(problemOf((v) => checkServiceName(v, ''))?.field).toBe('service_name');
    expect(problemOf((v) => checkServiceName(v, 'Auth'))?.field).toBe('service_name');
  });
});

describe('Violations', () => {
  it('passes when nothing was recorded and lists every violation otherwise', async () => {
    expect(() => new Violations().throwIfAny()).not.toThrow();
    const violations = new Violations();
    violations.add('a', 'x');
    violations.add('b', 'y');
    expect(await validationFields(() => violations.throwIfAny())).toEqual(['a', 'b']);
  });
});

describe('write decisions', () => {
  const now = new Date('2026-02-17T10:30:00Z');
  let n = 0;
  const newId = () => `id-${++n}`;
  const request = {
    namespace: 'system.auth.database',
    key: 'max_connections',
    value: 50,
    description: undefined,
    actor: 'op@example.com',
    secret: undefined,
    mayClearSecret: false,
    metadata: undefined,
  };
  const current = {
    id: 'entry-1',
    namespace: 'system.auth.database',
    key: 'max_connections',
    value: 25,
    version: 3,
    description: 'pool size',
    createdBy: 'admin@example.com',
    updatedBy: 'admin@example.com',
    createdAt: new Date('2026-01-01T00:00:00Z'),
    updatedAt: new Date('2026-01-02T00:00:00Z'),
    secret: false,
    metadata: null,
  };

  it('creates version 1 from version 0 when absent', () => {
    const plan = decidePut(undefined, { ...request, expectedVersion: 0 }, now, newId);
    expect(plan.kind).toBe('insert');
    if (plan.kind !== 'insert') return;
    expect(plan.entry).toMatchObject({ version: 1, value: 50, description: '', createdBy: 'op@example.com' });
    expect(plan.change).toMatchObject({
      configEntryId: plan.entry.id,
      changeType: 'CREATED',
      oldValue: null,
      newValue: 50,
      oldVersion: 0,
      newVersion: 1,
      changedAt: now,
    });
  });

  it('updates the matching version to version + 1, keeping creation data and description', () => {
    const plan = decidePut(current, { ...request, expectedVersion: 3 }, now, newId);
    expect(plan.kind).toBe('update');
    if (plan.kind !== 'update') return;
    expect(plan.expectedVersion).toBe(3);
    expect(plan.next).toEqual({
      ...current,
      value: 50,
      version: 4,
      updatedBy: 'op@example.com',
      updatedAt: now,
    });
    expect(plan.change).toMatchObject({
      changeType: 'UPDATED',
      oldValue: 25,
      newValue: 50,
      oldVersion: 3,
      newVersion: 4,
    });
  });

  it('replaces the description when one is given', () => {
    const plan = decidePut(current, { ...request, expectedVersion: 3, description: '' }, now, newId);
    expect(plan.kind === 'update' && plan.next.description).toBe('');
  });

  it('logs a deletion with the removed value and version 0 after', () => {
    expect(deletionChange(current, 'c-1', 'admin@example.com', now)).toEqual({
      id: 'c-1',
      configEntryId: 'entry-1',
      namespace: current.namespace,
      key: current.key,
      oldValue: 25,
      newValue: null,
      oldVersion: 3,
      newVersion: 0,
      changeType: 'DELETED',
      changedBy: 'admin@example.com',
      changedAt: now,
      secret: false,
    });
  });

  it('keeps the secret flag and metadata when a write does not name them', () => {
    const secretCurrent = { ...current, secret: true, metadata: { team: 'payments' } };
    const plan = decidePut(secretCurrent, { ...request, expectedVersion: 3 }, now, newId);
    expect(plan.kind === 'update' && plan.next).toMatchObject({
      secret: true,
      metadata: { team: 'payments' },
    });
    expect(plan.kind === 'update' && plan.change.secret).toBe(true);
  });

  it('marks a key secret on any write, but only a caller that may clear it turns it off', () => {
    const marked = decidePut(current, { ...request, expectedVersion: 3, secret: true }, now, newId);
    expect(marked.kind === 'update' && marked.next.secret).toBe(true);
    const secretCurrent = { ...current, secret: true };
    const denied = decidePut(secretCurrent, { ...request, expectedVersion: 3, secret: false }, now, newId);
    expect(denied).toEqual({ kind: 'secret_clear_denied' });
    expect(putRejectionError({ kind: 'secret_clear_denied' })).toMatchObject({ kind: 'permission_denied' });
    const cleared = decidePut(
      secretCurrent,
      { ...request, expectedVersion: 3, secret: false, mayClearSecret: true },
      now,
      newId,
    );
    expect(cleared.kind === 'update' && cleared.next.secret).toBe(false);
    // The log row still protects the value that was secret before the flag was cleared.
    expect(cleared.kind === 'update' && cleared.change.secret).toBe(true);
  });

  it('returns a refusal as an outcome (no throw): KEY_NOT_FOUND, VERSION_CONFLICT with both versions', () => {
    expect(decidePut(undefined, { ...request, expectedVersion: 2 }, now, newId)).toEqual({
      kind: 'key_not_found',
    });
    const conflict = decidePut(current, { ...request, expectedVersion: 2 }, now, newId);
    expect(conflict).toEqual({ kind: 'version_conflict', expectedVersion: 2, actualVersion: 3 });
    expect(
      putRejectionError({ kind: 'version_conflict', expectedVersion: 2, actualVersion: 3 }),
    ).toMatchObject({
      kind: 'conflict',
      code: 'VERSION_CONFLICT',
      details: [{ field: 'version', message: '期待値: 2, 現在値: 3' }],
    });
    expect(decidePut(current, { ...request, expectedVersion: 0 }, now, newId).kind).toBe('version_conflict');
  });

  it('sending secret: false for a key that is not secret is no clearing and needs no extra role', () => {
    const plan = decidePut(current, { ...request, expectedVersion: 3, secret: false }, now, newId);
    expect(plan.kind === 'update' && plan.next.secret).toBe(false);
  });
});
