import { Agent, request as httpRequest } from 'node:http';
import fc from 'fast-check';

/** One generated request. */
export interface FuzzCase {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

export interface FuzzResult {
  seed: number;
  runs: number;
  /** Requests answered 5xx, or under /api/ without the SPEC §4 envelope. */
  failures: Array<{ case: FuzzCase; status: number; body: string; why: string }>;
  /** Count per status code. */
  statuses: Record<number, number>;
}

export interface RestFuzzOptions {
  port: number;
  /** Valid bearer tokens to mix in (e.g. an admin's), so handlers past authentication get fuzzed too. */
  tokens: readonly string[];
  /** The service's error-code prefix, e.g. `SYS_CONFIG_`. */
  codePrefix: string;
  runs?: number;
  seed?: number;
  /** Requests in flight at once over keep-alive connections. */
  concurrency?: number;
}

type Operation = { method: string; template: string };

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** Path segments: plausible ids, odd characters, broken and hostile percent-encodings, long ones. */
const segment = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9._-]{0,20}$/),
  fc.constantFrom('system.a.b', 'business.x.y.z', 'order-1', '..', '.', '%2e%2e', '0', '-1', 'null'),
  fc.constantFrom('%ff', '%ED%A0%80', '%', '%g1', '%00', '%C0%AF', '%E2%82', '%F0%9F%98%80', '%25'),
  fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => encodeURIComponent(s)),
  fc
    .uint8Array({ maxLength: 8 })
    .map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
  fc.integer({ min: 200, max: 1_100 }).map((n) => 'k'.repeat(n)),
);

const queryString = fc.oneof(
  fc.constant(''),
  fc
    .array(fc.tuple(fc.constantFrom('limit', 'from', 'cursor', 'namespace', 'x', 'from_revision'), segment), {
      maxLength: 3,
    })
    .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`)),
  fc.constantFrom('?limit=-1', '?limit=99999999999999999999', '?limit=abc', '?%ff=1', '?a=%ED%A0%80'),
);

const jsonBody = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc
    .record(
      {
        value: fc.jsonValue({ maxDepth: 2 }),
        description: fc.string({ maxLength: 20 }),
        expected_version: fc.oneof(
          fc.constant(-1),
          fc.constant(0),
          fc.integer(),
          fc.string({ maxLength: 4 }),
        ),
        events: fc.array(
          fc.record(
            {
              event_type: fc.oneof(fc.constant('OrderPlaced'), fc.string({ maxLength: 10 })),
              payload: fc.jsonValue({ maxDepth: 2 }),
              metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), {
                maxKeys: 3,
              }),
            },
            { requiredKeys: ['event_type', 'payload'] },
          ),
          { maxLength: 3 },
        ),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.constantFrom(
    '{',
    '{"value":',
    'null',
    '[]',
    '"\\ud800"',
    '{"value":"\\udfff"}',
    '{"__proto__":{"x":1}}',
    '',
  ),
);

const body = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 5, arbitrary: jsonBody.map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) },
);

function requestArbitrary(
  operations: readonly Operation[],
  tokens: readonly string[],
): fc.Arbitrary<FuzzCase> {
  const path = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...operations).chain((op) => fillTemplate(op.template)) },
    {
      weight: 1,
      arbitrary: fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/api/v1/${s.join('/')}`),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '/api/',
        '/api',
        '/healthz',
        '/readyz',
        '/openapi.json',
        '//api/v1',
        '/api/v1/%ff',
      ),
    },
  );
  const method = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...new Set(operations.map((op) => op.method))) },
    { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
  );
  const authorization = fc.oneof(
    fc.constantFrom(...tokens.map((t) => `Bearer ${t}`)),
    fc.constantFrom('', 'Bearer', 'Bearer x.y.z', 'Basic Zm9vOmJhcg==', `Bearer ${'a'.repeat(300)}`),
  );
  const contentType = fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/octet-stream',
    'multipart/form-data; boundary=x',
    'application/json; charset=latin1',
    '',
  );
  return fc
    .record({
      method,
      path,
      query: queryString,
      authorization,
      contentType,
      requestId: fc.oneof(
        fc.constant(''),
        fc.stringMatching(/^[\w.:@-]{1,40}$/),
        fc.constant('bad id with spaces'),
      ),
      body,
    })
    .map(({ method: m, path: p, query, authorization: a, contentType: ct, requestId, body: b }) => {
      const headers: Record<string, string> = {};
      if (a) headers.authorization = a;
      if (ct && b !== undefined) headers['content-type'] = ct;
      if (requestId) headers['x-request-id'] = requestId;
      return { method: m, path: `${p}${query}`, headers, ...(b === undefined ? {} : { body: b }) };
    });
}

function fillTemplate(template: string): fc.Arbitrary<string> {
  const names = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
  if (names.length === 0) return fc.constant(template);
  return fc.tuple(...names.map(() => segment)).map((values) => {
    let i = 0;
    return template.replace(/\{[^}]+\}/g, () => values[i++] ?? '');
  });
}

function send(
  port: number,
  agent: Agent,
  c: FuzzCase,
): Promise<{ status: number; body: string; requestId?: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        agent,
        method: c.method,
        path: c.path,
        headers: {
          ...c.headers,
          ...(c.body === undefined ? {} : { 'content-length': String(c.body.length) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const requestId = res.headers['x-request-id'];
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ...(typeof requestId === 'string' ? { requestId } : {}),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(c.body);
  });
}

/** Why `body` is not the SPEC §4 envelope, or undefined when it is. */
function envelopeProblem(body: string, prefix: string, requestId: string | undefined): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'body is not JSON';
  }
  const error = (parsed as { error?: Record<string, unknown> } | null)?.error;
  if (typeof error !== 'object' || error === null) return 'no error object';
  if (typeof error.code !== 'string' || !error.code.startsWith(prefix)) return 'code missing or unprefixed';
  if (typeof error.message !== 'string') return 'message missing';
  if (typeof error.request_id !== 'string' || error.request_id !== requestId)
    return 'request_id ≠ X-Request-Id';
  if (
    !Array.isArray(error.details) ||
    !error.details.every(
      (d: unknown) =>
        typeof d === 'object' &&
        d !== null &&
        typeof (d as { field?: unknown }).field === 'string' &&
        typeof (d as { message?: unknown }).message === 'string',
    )
  ) {
    return 'details malformed';
  }
  return undefined;
}

/**
 * Fuzzes every operation of the service's `/openapi.json` (so new routes are covered without
 * touching the test) with random methods, path parameters, percent-encodings, queries, headers and
 * bodies; the cases are drawn by fast-check from `seed` and sent concurrently over keep-alive
 * connections. Reports every 5xx and every non-2xx under /api/ without the envelope.
 */
export async function fuzzRestRoutes(options: RestFuzzOptions): Promise<FuzzResult> {
  const runs = options.runs ?? 5_000;
  const seed = options.seed ?? Date.now() ^ (Math.random() * 0x100000000);
  const concurrency = options.concurrency ?? 16;
  const doc = (await (await fetch(`http://127.0.0.1:${options.port}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const operations: Operation[] = Object.entries(doc.paths).flatMap(([template, item]) =>
    Object.keys(item)
      .filter((m) => METHODS.includes(m.toUpperCase()))
      .map((m) => ({ method: m.toUpperCase(), template })),
  );
  if (operations.length === 0) throw new Error('no operations in /openapi.json');
  const cases = fc.sample(requestArbitrary(operations, options.tokens), { numRuns: runs, seed });
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const result: FuzzResult = { seed, runs, failures: [], statuses: {} };
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++] as FuzzCase;
      const res = await send(options.port, agent, c);
      result.statuses[res.status] = (result.statuses[res.status] ?? 0) + 1;
      let why: string | undefined;
      if (res.status >= 500) why = '5xx';
      else if (c.path.startsWith('/api/') && res.status >= 300 && c.method !== 'HEAD') {
        why = envelopeProblem(res.body, options.codePrefix, res.requestId);
      }
      if (why) result.failures.push({ case: c, status: res.status, body: res.body.slice(0, 300), why });
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return result;
}
