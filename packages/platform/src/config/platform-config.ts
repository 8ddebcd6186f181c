import { z } from 'zod';

/** Parses "10s", "500ms", "5m" or a bare number of milliseconds. */
export const durationMs = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(/^\d+(ms|s|m|h)$/, 'expected a duration like "500ms", "10s" or "5m"')
    .transform((s) => {
      const n = Number.parseInt(s, 10);
      const unit = s.replace(/^\d+/, '');
      return n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const)[unit as 'ms' | 's' | 'm' | 'h'];
    }),
]);

const port = z.coerce.number().int().min(0).max(65535);

/**
 * The environments where development conveniences are on: HS256 development tokens, the public
 * default dev secret, no required AUTH_AUDIENCE and a loopback listen address (SPEC §3).
 */
export const DEV_ENVIRONMENTS: readonly string[] = ['dev', 'test'];
/** APP_ENV when neither the variable nor config.yaml names one. */
export const DEFAULT_APP_ENV = 'dev';

export function isDevEnvironment(appEnv: string): boolean {
  return DEV_ENVIRONMENTS.includes(appEnv);
}

/** The part of every service's configuration that the platform itself reads (SPEC §2). */
export const platformConfigSchema = z.object({
  app: z.object({
    name: z.string().min(1),
    version: z.string().default('0.1.0'),
    /** Design 000's tier of the service (system, business, service); informational. */
    tier: z.enum(['system', 'business', 'service']).optional(),
    // Any lower-case name (dev, test, staging, prod, production, ci, …); it selects
    // config.<APP_ENV>.yaml, and anything but dev/test refuses development tokens.
    environment: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, 'lower-case letters, digits, _ and -, at most 32')
      .default(DEFAULT_APP_ENV),
  }),
  server: z.object({
    // loadConfig makes 127.0.0.1 the default in dev/test; elsewhere (pods) every interface.
    host: z.string().min(1).default('0.0.0.0'),
    port,
    shutdown_timeout: durationMs.default(10_000),
    /** Readiness answers 503 this long before the listeners stop (time for load balancers to notice). */
    pre_stop_delay: durationMs.default(0),
    /** Whole request (headers and body) must arrive within this; 408 envelope and close otherwise. */
    request_timeout: durationMs.default(30_000),
    /** Request headers must arrive within this; the connection is closed otherwise. */
    headers_timeout: durationMs.default(10_000),
    /** An idle keep-alive connection is closed after this. */
    keep_alive_timeout: durationMs.default(5_000),
    /**
     * Socket inactivity timeout of the REST port; 0 = off. Off by default: the request, headers
     * and keep-alive timeouts already bound every phase but one, a quiet server stream.
     */
    connection_timeout: durationMs.default(0),
    /** How often Node checks the request and headers timeouts (their granularity). */
    timeout_check_interval: durationMs.default(1_000),
    body_limit_bytes: z.coerce
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
  }),
  grpc: z.object({
    port,
    max_recv_msg_size: z.coerce
      .number()
      .int()
      .positive()
      .default(4 * 1024 * 1024),
    /** An HTTP/2 connection without any frame for this long is closed (GOAWAY); 0 = never. */
    idle_timeout: durationMs.default(120_000),
    /** SETTINGS_MAX_CONCURRENT_STREAMS announced on every HTTP/2 connection. */
    max_concurrent_streams: z.coerce.number().int().min(1).default(100),
    /** Open server streams (WatchConfig, SubscribeAll, health Watch) per caller, both ports. */
    max_streams_per_caller: z.coerce.number().int().min(1).default(100),
    /** Open server streams in total, both ports. */
    max_streams_total: z.coerce.number().int().min(1).default(10_000),
    /**
     * Unary and server-streaming gRPC calls (application/grpc, uncompressed) on the gRPC port are
     * answered from the HTTP/2 stream directly instead of through Connect's pipeline (same gate,
     * interceptors, codec and frames; grpc-direct-path.ts). false = everything through Connect.
     */
    direct_path: z
      .union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')])
      .default(true),
    /** A new stream is refused (RESOURCE_EXHAUSTED) while the V8 heap is above this fraction of its limit; 1 = off. */
    max_streams_heap_fraction: z.coerce.number().min(0.1).max(1).default(0.8),
  }),
  database: z.object({
    url: z.string().url().optional(),
    /**
     * Apply pending migrations at start-up (default). Off when a platform team runs
     * `node dist/migrate.js` as a Job before the rollout (DATABASE_MIGRATE_ON_START=false).
     */
    migrate_on_start: z
      .union([z.boolean(), z.enum(['true', 'false']).transform((value) => value === 'true')])
      .default(true),
    max_connections: z.coerce.number().int().min(1).max(500).default(20),
    /** Opening one PostgreSQL connection. */
    connect_timeout: durationMs.pipe(z.number().int().min(1)).default(5_000),
    /** The earlier name (whole seconds): still read, with a start-up warning (RenamedSettings). */
    connect_timeout_seconds: z.coerce.number().int().min(1).optional().meta({ deprecated: true }),
    /** Server-side limit on one statement; a request's database time is bounded by connect + this. */
    statement_timeout: durationMs.default(10_000),
    /** Server-side limit on a transaction left idle (a crashed or hung client holding locks). */
    idle_in_transaction_session_timeout: durationMs.default(30_000),
    /** Cap of postgres.js's reconnect backoff (default grows to 20 s, and queries wait for it). */
    reconnect_backoff_max: durationMs.default(500),
    /** Where the embedded PostgreSQL keeps its data when no url is given (relative to the repo). */
    embedded_data_dir: z.string().default('.data/postgres'),
    embedded_port: z.coerce.number().int().min(1).max(65535).default(54329),
    embedded_database: z.string().default('k1s0'),
  }),
  kafka: z
    .object({
      brokers: z.array(z.string().min(1)).default([]),
      client_id: z.string().optional(),
    })
    .default({ brokers: [] }),
  // createTokenVerifier checks the combination (SPEC §3): outside dev/test AUTH_JWKS_URL and
  // AUTH_AUDIENCE are required and a dev secret is a start-up error.
  auth: z
    .object({
      jwks_url: z.string().url().optional(),
      issuer: z.string().min(1).optional(),
      audience: z.string().min(1).optional(),
      /** Keycloak client whose resource_access roles count; default: the audience. */
      client_id: z.string().min(1).optional(),
      /** When set, a token's azp (requesting client) must be one of these. */
      allowed_azp: z.array(z.string().min(1)).optional(),
      // Any non-empty secret: it only signs local dev tokens. loadConfig supplies the public
      // default in dev/test; anywhere else setting it is a start-up error.
      dev_secret: z.string().min(1).optional(),
    })
    .default({}),
  observability: z
    .object({
      log: z
        .object({
          level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        })
        .default({ level: 'info' }),
      /** OTLP/HTTP collector base URL; unset = spans are not exported. */
      tracing: z.object({ otlp_endpoint: z.string().url().optional() }).default({}),
    })
    .default({ log: { level: 'info' }, tracing: {} }),
});

export type PlatformConfig = z.infer<typeof platformConfigSchema>;
