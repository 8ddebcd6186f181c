import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { issueApiKey, parseApiKey, secretMatches } from '../src/apikeys/index.js';
import { AuditTrail, auditLogsTable } from '../src/audit/index.js';
import {
  type ApiKeyAuthenticator,
  createCallerGate,
  createTokenVerifier,
  type Denial,
  devTokenClaims,
  type Principal,
  signDevToken,
  unauthenticated,
} from '../src/auth/index.js';
import type { Database } from '../src/db/index.js';
import { isAppError } from '../src/errors/index.js';
import { createLogger } from '../src/observability/index.js';

const ID = '0b6f1c52-3c1e-4d7a-9a55-2d7f0e3c9b11';

describe('api key secrets', () => {
  it('issues k1s0_<id>_<secret>, parses back to the id, and matches only its own secret', () => {
    const issued = issueApiKey(ID);
    expect(issued.key).toMatch(/^k1s0_0b6f1c523c1e4d7a9a552d7f0e3c9b11_[A-Za-z0-9_-]{43}$/);
    const parsed = parseApiKey(issued.key);
    expect(parsed?.id).toBe(ID);
    expect(secretMatches(parsed!.secret, issued)).toBe(true);
    expect(secretMatches(`${parsed!.secret.slice(0, -1)}A`, issued)).toBe(parsed!.secret.endsWith('A'));
    expect(issued.secretHash).not.toContain(parsed!.secret);
    // Same secret, another salt: another hash.
    const other = issueApiKey(ID);
    expect(other.salt).not.toBe(issued.salt);
    expect(secretMatches(parsed!.secret, other)).toBe(false);
  });

  it('rejects anything that is not a key of ours', () => {
    for (const key of [
      '',
      'k1s0_',
      'k1s0_abc_def',
      `x1s0_${'0'.repeat(32)}_${'A'.repeat(43)}`,
      `k1s0_${'0'.repeat(32)}_${'A'.repeat(42)}`,
    ]) {
      expect(parseApiKey(key), key).toBeUndefined();
    }
  });
});

describe('CallerGate', () => {
  const SECRET = 'gate-test-secret';
  const tokens = createTokenVerifier({ devSecret: SECRET, appEnv: 'dev' });
  const keyPrincipal: Principal = {
    subject: 'apikey:svc',
    actor: 'apikey:svc',
    roles: new Set(['sys_auditor']),
    claims: {},
  };
  const seen: string[] = [];
  const apiKeys: ApiKeyAuthenticator = {
    async verify(key) {
      seen.push(key);
      if (key === 'good') return keyPrincipal;
      if (key === 'expired') throw unauthenticated('api key expired', undefined, 'apikey:old');
      throw unauthenticated('unknown api key');
    },
  };
  const denials: Denial[] = [];
  const gate = createCallerGate({ tokens, apiKeys, onDenied: (d) => denials.push(d) });
  const where = { operation: 'GET /x', protocol: 'rest' as const };

  it('routes ApiKey to the key verifier (scheme case-insensitive) and Bearer to the JWT verifier', async () => {
    expect(await gate.admit('ApiKey good', 'sys_auditor', where)).toBe(keyPrincipal);
    expect(await gate.admit('apikey  good ', 'sys_auditor', where)).toBe(keyPrincipal);
    const jwt = signDevToken(devTokenClaims({ roles: ['sys_admin'], email: 'a@example.com' }), SECRET, 60);
    expect((await gate.admit(`Bearer ${jwt}`, 'sys_admin', where)).actor).toBe('a@example.com');
    expect(seen).toEqual(['good', 'good']);
  });

  it('reports every refusal with who (if proven), where and why, and never the credential', async () => {
    denials.length = 0;
    const refusal = async (header: string | undefined, required: 'sys_admin' | 'sys_auditor') => {
      try {
        await gate.admit(header, required, where);
        return undefined;
      } catch (error) {
        return isAppError(error) ? error.kind : 'other';
      }
    };
    expect(await refusal('ApiKey good', 'sys_admin')).toBe('permission_denied');
    expect(await refusal('ApiKey expired', 'sys_auditor')).toBe('unauthenticated');
    expect(await refusal('ApiKey bad-secret-value', 'sys_auditor')).toBe('unauthenticated');
    expect(await refusal('ApiKey', 'sys_auditor')).toBe('unauthenticated');
    expect(await refusal(undefined, 'sys_auditor')).toBe('unauthenticated');
    expect(denials.map((d) => [d.kind, d.actor, d.reason])).toEqual([
      ['permission_denied', 'apikey:svc', 'role sys_admin required'],
      ['unauthenticated', 'apikey:old', 'api key expired'],
      ['unauthenticated', undefined, 'unknown api key'],
      ['unauthenticated', undefined, 'malformed authorization header'],
      ['unauthenticated', undefined, 'missing bearer token'],
    ]);
    expect(JSON.stringify(denials)).not.toContain('bad-secret-value');
  });

  it('authorize: the role check alone for a caller the gate already admitted, refusals reported', async () => {
    denials.length = 0;
    seen.length = 0;
    const admitted = await gate.admit('ApiKey good', 'authenticated', where);
    expect(gate.authorize(admitted, 'sys_auditor', where)).toBe(admitted);
    expect(() => gate.authorize(admitted, 'sys_admin', where)).toThrow('role sys_admin required');
    // The key was verified once, by admit.
    expect(seen).toEqual(['good']);
    expect(denials.map((d) => [d.kind, d.actor, d.reason])).toEqual([
      ['permission_denied', 'apikey:svc', 'role sys_admin required'],
    ]);
  });

  it('without an ApiKey verifier the scheme is refused', async () => {
    const bearerOnly = createCallerGate({ tokens });
    await expect(bearerOnly.admit('ApiKey good', 'sys_auditor', where)).rejects.toMatchObject({
      kind: 'unauthenticated',
    });
  });
});

describe('AuditTrail queue', () => {
  it('folds identical records, bounds distinct ones and counts what it drops', async () => {
    const inserted: Record<string, unknown>[][] = [];
    // Unit test of the queue: a database stand-in that records the one INSERT shape it is sent.
    const database = {
      db: { insert: () => ({ values: async (rows: Record<string, unknown>[]) => void inserted.push(rows) }) },
    } as unknown as Database;
    const registry = new Registry();
    const trail = new AuditTrail({
      database,
      table: auditLogsTable('unit'),
      logger: createLogger({ name: 'test', level: 'silent' }),
      registry,
      metricsPrefix: 'unit',
      queueCapacity: 2,
      flushIntervalMs: 60_000,
    });
    const denied = (actor: string) => ({
      action: 'access.denied',
      actor,
      target: 'GET /x',
      outcome: 'denied' as const,
    });
    for (let i = 0; i < 5; i++) trail.enqueue(denied('anonymous'));
    trail.enqueue(denied('b'));
    trail.enqueue(denied('c')); // a third distinct record: over capacity
    trail.enqueue(denied('d'));
    await trail.stop();
    expect(inserted).toHaveLength(1);
    expect(inserted[0]?.map((row) => [row.actor, (row.details as { count?: number }).count])).toEqual([
      ['anonymous', 5],
      ['b', undefined],
    ]);
    expect(await registry.getSingleMetricAsString('unit_audit_dropped_total')).toContain(
      'unit_audit_dropped_total 2',
    );
  });
});
