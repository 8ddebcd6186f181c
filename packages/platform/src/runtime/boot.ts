import { isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import {
  authInterceptor,
  authPlugin,
  bearerToken,
  createTokenVerifier,
  type RoleRequirement,
  type TokenVerifier,
} from '../auth/index.js';
import { ConfigError, loadConfig, type PlatformConfig } from '../config/index.js';
import { createDatabase, type Database, runMigrations } from '../db/index.js';
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
  codes: ErrorCodes;
  /** Title and description of the REST API's OpenAPI document. */
  openapi: { title: string; description: string };
  /** Prefix of the service's metric names, e.g. `config_server`. */
  metricsPrefix: string;
  migrations: { folder: string; schema: string; table: string };
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
 * Loads config, connects (or starts the embedded PostgreSQL), migrates, wires and listens.
 * Configuration errors (ConfigError, including the auth rules of SPEC §3) are thrown before
 * anything is started.
 */
export async function startService<S extends z.ZodType<PlatformConfig>>(
  definition: ServiceDefinition<S>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningService<z.infer<S>>> {
  const config = loadConfig({ configDir: definition.configDir, schema: definition.schema, env });
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
  const database = createDatabase({
    url,
    max: config.database.max_connections,
    connectTimeoutSec: config.database.connect_timeout_seconds,
    applicationName: config.app.name,
  });
  try {
    await runMigrations(database, {
      migrationsFolder: definition.migrations.folder,
      migrationsSchema: definition.migrations.schema,
      migrationsTable: definition.migrations.table,
    });
  } catch (error) {
    await database.close();
    await embedded?.stop();
    throw error;
  }

  const metrics = createMetrics(definition.metricsPrefix);
  const shutdown = new AbortController();
  const parts = await definition.build({
    config,
    logger,
    metrics,
    database,
    verifier,
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
    rest: async (app) => {
      await app.register(authPlugin, { verifier });
      await parts.rest(app);
    },
    connect: {
      routes: parts.connect.routes,
      interceptors: [authInterceptor(verifier, roleFor)],
      // Identity from the headers before the body is read; the role is checked by the interceptor.
      authenticate: async (service, method, authorization) => {
        if (roleFor(service, method) !== 'public') await verifier.verify(bearerToken(authorization));
      },
    },
  });
  runtime.shutdownSignal.addEventListener('abort', () => shutdown.abort(runtime.shutdownSignal.reason));
  await parts.start?.();
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
    service = await startService(definition);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
    } else {
      process.stderr.write(
        `start-up failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
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
