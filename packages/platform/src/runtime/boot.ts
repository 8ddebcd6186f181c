import { isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import {
  type AccessControlRoles,
  ApiKeys,
  type ApiKeysTable,
  accessControlRoutes,
} from '../apikeys/index.js';
import { type AuditLogsTable, AuditTrail } from '../audit/index.js';
import {
  authInterceptor,
  authPlugin,
  createCallerGate,
  createTokenVerifier,
  GrpcSite,
  type RoleRequirement,
  type TokenVerifier,
} from '../auth/index.js';
import {
  ConfigError,
  configError,
  type EnvOverride,
  isDevEnvironment,
  loadConfig,
  type PlatformConfig,
  RenamedSettings,
} from '../config/index.js';
import { createDatabase, type Database, runMigrations, trackDatabasePool } from '../db/index.js';
import { isDiscoveryService } from '../discovery/index.js';
import { type EmbeddedPostgres, ensureEmbeddedPostgres } from '../embedded/index.js';
import {
  createServiceRuntime,
  type ErrorCodes,
  type ReadinessCheck,
  type ServiceOptions,
  type ServiceRuntime,
} from '../http/index.js';
import {
  createLogger,
  createMetrics,
  type HttpMetrics,
  type Logger,
  startTracingExport,
} from '../observability/index.js';
import { findRepoRoot } from './repo-root.js';

/** What the platform hands an app to build itself from. */
export interface Kernel<C extends PlatformConfig> {
  config: C;
  logger: Logger;
  metrics: HttpMetrics;
  database: Database;
  verifier: TokenVerifier;
  /**
   * The service's audit trail (present when the definition has `accessControl`): use cases record
   * what SPEC §8 names (e.g. `secret.read`) with `audit.record(...)`, inside their transaction if any.
   */
  audit: AuditTrail | undefined;
  /** Aborted when shutdown starts: long-lived streams end on it. */
  shutdownSignal: AbortSignal;
}

/** The app's own parts, wired by `build`. */
export interface AppParts {
  rest: ServiceOptions['rest'];
  connect: {
    routes: ServiceOptions['connect']['routes'];
    /** Role each RPC needs; 'public' skips authentication. */
    roleFor: (serviceTypeName: string, methodName: string) => RoleRequirement | 'public';
  };
  /** Extra readiness checks (the database is always checked). */
  readiness?: Record<string, ReadinessCheck>;
  /** Background work (listeners, relays) started once the database is migrated. */
  start?: () => Promise<void>;
  /** Stops background work; called after the servers stopped accepting and drained. */
  stop?: () => Promise<void>;
}

export interface ServiceDefinition<S extends z.ZodType<PlatformConfig>> {
  /** Folder holding config.yaml (+ config.<APP_ENV>.yaml). */
  configDir: string;
  schema: S;
  /** Environment variables of this app beyond the platform's (SPEC §2 list). */
  envOverrides?: ReadonlyArray<EnvOverride>;
  codes: ErrorCodes;
  /** Title and description of the REST API's OpenAPI document. */
  openapi: { title: string; description: string };
  /** Prefix of the service's metric names, e.g. `config_server`. */
  metricsPrefix: string;
  migrations: { folder: string; schema: string; table: string };
  /**
   * API keys, the audit trail and their routes (SPEC §8): the app's own tables (from
   * `apiKeysTable` / `auditLogsTable` in its drizzle schema) and the roles from its role table.
   */
  accessControl?: { apiKeys: ApiKeysTable; auditLogs: AuditLogsTable; roles: AccessControlRoles };
  build: (kernel: Kernel<z.infer<S>>) => Promise<AppParts> | AppParts;
}

export interface RunningService<C extends PlatformConfig> {
  config: C;
  restPort: number;
  grpcPort: number;
  runtime: ServiceRuntime;
  database: Database;
  /** Graceful stop: stop accepting, drain, end streams, stop background work, close the pool. */
  stop(): Promise<void>;
}

/**
 * Outside dev/test a missing DATABASE_URL is a configuration error: the embedded PostgreSQL is a
 * development convenience and must never start inside a pod (its data would die with it).
 */
function requireDatabaseOutsideDev(config: PlatformConfig): void {
  if (config.database.url || isDevEnvironment(config.app.environment)) return;
  throw configError([
    {
      field: 'database.url',
      message: `DATABASE_URL is required when APP_ENV is ${config.app.environment} (the embedded PostgreSQL is only for dev and test)`,
    },
  ]);
}

function secondsToMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : seconds * 1000;
}

/** The configured database, or (dev/test without a url) the embedded PostgreSQL. */
async function connectDatabase(
  definition: ServiceDefinition<z.ZodType<PlatformConfig>>,
  config: PlatformConfig,
  logger: Logger,
): Promise<{ database: Database; embedded?: EmbeddedPostgres }> {
  let embedded: EmbeddedPostgres | undefined;
  let url = config.database.url;
  if (!url) {
    const root = findRepoRoot(definition.configDir);
    const dataDir = isAbsolute(config.database.embedded_data_dir)
      ? config.database.embedded_data_dir
      : resolve(root, config.database.embedded_data_dir);
    embedded = await ensureEmbeddedPostgres({
      dataDir,
      port: config.database.embedded_port,
      database: config.database.embedded_database,
    });
    url = embedded.url;
    logger.info({ dataDir, owned: embedded.owned }, 'using embedded PostgreSQL');
  }
  const renamed = new RenamedSettings();
  const connectTimeoutMs = renamed.pick(
    'database.connect_timeout_seconds',
    'database.connect_timeout',
    secondsToMs(config.database.connect_timeout_seconds),
    config.database.connect_timeout,
  );
  renamed.warn(logger);
  const database = createDatabase({
    url,
    max: config.database.max_connections,
    connectTimeoutMs,
    statementTimeoutMs: config.database.statement_timeout,
    idleInTransactionTimeoutMs: config.database.idle_in_transaction_session_timeout,
    reconnectBackoffMaxMs: config.database.reconnect_backoff_max,
    applicationName: config.app.name,
  });
  return { database, embedded };
}

function migrate(
  definition: ServiceDefinition<z.ZodType<PlatformConfig>>,
  database: Database,
): Promise<void> {
  return runMigrations(database, {
    migrationsFolder: definition.migrations.folder,
    migrationsSchema: definition.migrations.schema,
    migrationsTable: definition.migrations.table,
  });
}

/** The service's configuration: its packaged folder (or --config / CONFIG_DIR), its env overrides. */
function loadServiceConfig<S extends z.ZodType<PlatformConfig>>(
  definition: ServiceDefinition<S>,
  env: NodeJS.ProcessEnv,
  argv: readonly string[],
): z.infer<S> {
  return loadConfig({
    configDir: definition.configDir,
    schema: definition.schema,
    env,
    argv,
    envOverrides: definition.envOverrides,
  });
}

/**
 * Loads config, connects (or starts the embedded PostgreSQL), migrates, wires and listens.
 * Configuration errors (ConfigError, including the auth rules of SPEC §3) are thrown before
 * anything is started.
 */
export async function startService<S extends z.ZodType<PlatformConfig>>(
  definition: ServiceDefinition<S>,
  env: NodeJS.ProcessEnv = process.env,
  /** Command-line arguments (`--config`); runServiceMain passes the process's own. */
  argv: readonly string[] = [],
): Promise<RunningService<z.infer<S>>> {
  const config = loadServiceConfig(definition, env, argv);
  const logger = createLogger({ name: config.app.name, level: config.observability.log.level });
  const { otlp_endpoint: otlpEndpoint } = config.observability.tracing;
  const tracing = otlpEndpoint
    ? startTracingExport({ serviceName: config.app.name, serviceVersion: config.app.version, otlpEndpoint })
    : undefined;
  const verifier = createTokenVerifier({
    jwksUrl: config.auth.jwks_url,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    clientId: config.auth.client_id,
    allowedAzp: config.auth.allowed_azp,
    devSecret: config.auth.dev_secret,
    appEnv: config.app.environment,
  });
  requireDatabaseOutsideDev(config);

  const { database, embedded } = await connectDatabase(definition, config, logger);
  if (config.database.migrate_on_start) {
    try {
      await migrate(definition, database);
    } catch (error) {
      await database.close();
      await embedded?.stop();
      throw error;
    }
  } else {
    logger.info('database.migrate_on_start is off: migrations are left to `migrate`');
  }

  const metrics = createMetrics(definition.metricsPrefix);
  trackDatabasePool(metrics.registry, database);
  const shutdown = new AbortController();
  const access = definition.accessControl;
  const audit = access
    ? new AuditTrail({
        database,
        table: access.auditLogs,
        logger,
        registry: metrics.registry,
        metricsPrefix: definition.metricsPrefix,
      })
    : undefined;
  const apiKeys =
    access && audit
      ? new ApiKeys({
          database,
          table: access.apiKeys,
          audit,
          logger,
          channel: `${definition.migrations.schema}_apikey_revoked`,
          validationCode: definition.codes.validation,
        })
      : undefined;
  // One gate for REST and gRPC: Bearer JWTs and API keys, every refusal queued for the audit trail.
  const gate = createCallerGate({
    tokens: verifier,
    apiKeys,
    onDenied: audit
      ? (denial) =>
          audit.enqueue({
            action: 'access.denied',
            actor: denial.actor ?? 'anonymous',
            target: denial.operation,
            outcome: 'denied',
            details: {
              reason: denial.reason,
              status: denial.kind === 'unauthenticated' ? 'unauthenticated' : 'permission_denied',
              protocol: denial.protocol,
              required_role: denial.required,
            },
          })
      : undefined,
  });
  const parts = await definition.build({
    config,
    logger,
    metrics,
    database,
    verifier,
    audit,
    shutdownSignal: shutdown.signal,
  });
  const roleFor = (service: string, method: string): RoleRequirement | 'public' =>
    isDiscoveryService(service) ? 'public' : parts.connect.roleFor(service, method);
  const runtime = await createServiceRuntime({
    config,
    codes: definition.codes,
    logger,
    metrics,
    readiness: { database: () => database.ping(), ...parts.readiness },
    openapi: { ...definition.openapi, version: config.app.version },
    // Refusals past the gate (use-case scopes, per-request role rules): same record as the gate's,
    // with the caller's scopes (patterns, not credentials) as the likely why.
    onRefused: audit
      ? (refusal) =>
          audit.enqueue({
            action: 'access.denied',
            actor: refusal.principal.actor,
            target: refusal.operation,
            outcome: 'denied',
            details: {
              reason: refusal.reason,
              status: 'permission_denied',
              protocol: refusal.protocol,
              ...(refusal.principal.scopes === undefined ? {} : { scopes: refusal.principal.scopes }),
            },
          })
      : undefined,
    rest: async (app) => {
      await app.register(authPlugin, { verifier: gate });
      await parts.rest(app);
      if (access && apiKeys && audit) await accessControlRoutes(app, { apiKeys, audit, roles: access.roles });
    },
    connect: {
      routes: parts.connect.routes,
      interceptors: [authInterceptor(gate, roleFor)],
      // Identity from the headers before the body is read (Bearer or ApiKey, refusals audited);
      // the role is checked by the interceptor.
      authenticate: (service, method, authorization) => {
        if (roleFor(service, method) === 'public') return undefined;
        const where = new GrpcSite(service, method);
        return (
          gate.admitKnown(authorization, 'authenticated', where) ??
          gate.admit(authorization, 'authenticated', where)
        );
      },
    },
  });
  runtime.shutdownSignal.addEventListener('abort', () => shutdown.abort(runtime.shutdownSignal.reason));
  await apiKeys?.start();
  try {
    await parts.start?.();
  } catch (error) {
    // A start-up check failed (e.g. a missing encryption key): release everything, then report.
    await parts.stop?.().catch(() => undefined);
    await runtime.close();
    await apiKeys?.stop();
    await audit?.stop();
    await database.close();
    await embedded?.stop();
    throw error;
  }
  const { restPort, grpcPort } = await runtime.listen();
  logger.info({ restPort, grpcPort }, `${config.app.name} listening`);

  let stopping: Promise<void> | undefined;
  return {
    config,
    restPort,
    grpcPort,
    runtime,
    database,
    stop() {
      stopping ??= (async () => {
        await runtime.close();
        await parts.stop?.();
        await apiKeys?.stop();
        await audit?.stop();
        await database.close();
        await embedded?.stop();
        await tracing
          ?.shutdown()
          .catch((error: unknown) => logger.warn({ err: error }, 'span export failed'));
      })();
      return stopping;
    },
  };
}

/**
 * The process entry point of a service: start, then stop gracefully on SIGTERM/SIGINT within
 * `server.shutdown_timeout` (SPEC §7). Invalid configuration exits 1 naming the field.
 */
export async function runServiceMain<S extends z.ZodType<PlatformConfig>>(
  definition: ServiceDefinition<S>,
): Promise<void> {
  let service: RunningService<z.infer<S>>;
  try {
    service = await startService(definition, process.env, process.argv.slice(2));
  } catch (error) {
    reportStartFailure(error);
    process.exit(1);
  }
  const onSignal = (signal: NodeJS.Signals) => {
    const timer = setTimeout(() => {
      process.stderr.write(
        `shutdown did not finish within ${service.config.server.shutdown_timeout} ms; exiting\n`,
      );
      process.exit(0);
    }, service.config.server.shutdown_timeout);
    timer.unref();
    process.stderr.write(`${signal} received; shutting down\n`);
    service.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

function reportStartFailure(error: unknown): void {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(
      `start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
}

/**
 * Applies the service's pending migrations and exits: the `migrate` command (`node dist/migrate.js`,
 * `./k1s0 migrate`) a platform team runs as a Job before a rollout. Same config and same rules as
 * the service (no DATABASE_URL outside dev/test is refused); exit 0 when the schema is current.
 */
export async function runMigrateMain<S extends z.ZodType<PlatformConfig>>(
  definition: ServiceDefinition<S>,
  env: NodeJS.ProcessEnv = process.env,
  argv: readonly string[] = process.argv.slice(2),
): Promise<void> {
  try {
    const config = loadServiceConfig(definition, env, argv);
    requireDatabaseOutsideDev(config);
    const logger = createLogger({
      name: `${config.app.name}-migrate`,
      level: config.observability.log.level,
    });
    const { database, embedded } = await connectDatabase(definition, config, logger);
    try {
      await migrate(definition, database);
    } finally {
      await database.close();
      await embedded?.stop();
    }
    logger.info({ schema: definition.migrations.schema }, 'migrations applied');
    process.stderr.write(`${config.app.name}: migrations applied (schema ${definition.migrations.schema})\n`);
  } catch (error) {
    reportStartFailure(error);
    process.exit(1);
  }
  process.exit(0);
}
