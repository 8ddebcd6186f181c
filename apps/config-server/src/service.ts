import { fileURLToPath } from 'node:url';
import { configRules, randomUuids, systemClock } from '@k1s0/config-domain';
import {
  type AppParts,
  developmentKeyRing,
  EnvelopeCipher,
  isDevEnvironment,
  type Kernel,
  kafkaPublisherFor,
  type Publisher,
  type ServiceDefinition,
  trackOutboxBacklog,
} from '@k1s0/platform';
import { ConfigService } from '@k1s0/proto';
import { AccessAudit } from './access-audit.js';
import { LruConfigCache } from './cache/lru-config-cache.js';
import { type ConfigServerConfig, configServerConfigSchema, configServerEnv } from './config.js';
import { configErrorCodes } from './error-codes.js';
import { PostgresChangeFeed } from './feed/postgres-change-feed.js';
import { configServiceImpl } from './grpc/config-service.js';
import { startChangeLogRetention } from './persistence/change-log-retention.js';
import { PostgresChangeLogRepository } from './persistence/postgres-change-log-repository.js';
import { PostgresConfigRepository } from './persistence/postgres-config-repository.js';
import { PostgresConfigWriter } from './persistence/postgres-config-writer.js';
import { configApiKeys, configAuditLogs, configOutbox } from './persistence/schema.js';
import { checkSecretKeys, rewrapSecrets } from './persistence/secret-keys.js';
import { SecretValues } from './persistence/secret-values.js';
import { createConfigOutboxRelay } from './relay/config-outbox-relay.js';
import { configRoutes } from './rest/config-routes.js';
import { configRoles, configRpcRole } from './roles.js';
import { createUseCaseRunner } from './use-case-runner.js';
import { createUseCases } from './use-cases.js';
import { configUpdatesRoute } from './ws/config-updates.js';

export const METRICS_PREFIX = 'config_server';

export type ConfigServerServiceDefinition = ServiceDefinition<typeof configServerConfigSchema>;

export interface ConfigServerServiceOptions {
  /** How the relay reaches Kafka when `kafka.brokers` is set; default: the platform's Kafka publisher. */
  publisher?: (config: ConfigServerConfig) => Publisher;
}

/** Wires the adapters, the use cases (shared by REST, gRPC and WebSocket), the change feed and the relay. */
function build(kernel: Kernel<ConfigServerConfig>, options: ConfigServerServiceOptions): AppParts {
  const { config, database, logger, shutdownSignal } = kernel;
  const metrics = { registry: kernel.metrics.registry, prefix: METRICS_PREFIX };
  const section = config.config_server;
  const rules = configRules({
    allowedTiers: section.namespace.allowed_tiers,
    maxDepth: section.namespace.max_depth,
    maxValueBytes: section.value.max_bytes,
    maxMetadataBytes: section.metadata.max_bytes,
  });
  // SPEC §8 secrets: the configured key ring; in dev/test without one, the public development key;
  // elsewhere none, and then storing a secret is refused (and stored secrets stop start-up).
  const ring =
    section.secrets.ring ?? (isDevEnvironment(config.app.environment) ? developmentKeyRing() : undefined);
  const cipher = ring === undefined ? undefined : new EnvelopeCipher(ring);
  const values = new SecretValues(cipher);
  const cache = new LruConfigCache({
    maxEntries: section.cache.max_entries,
    ttlMs: section.cache.ttl,
    metrics,
  });
  const changeLog = new PostgresChangeLogRepository(database, values);
  const feed = new PostgresChangeFeed({
    database,
    changeLog,
    cache,
    logger,
    pollIntervalMs: section.watch.poll_interval,
    metrics,
  });
  const useCases = createUseCases({
    repository: new PostgresConfigRepository(database, values),
    writer: new PostgresConfigWriter(database, { topic: config.kafka.topic_changed }, values),
    changeLog,
    cache,
    feed,
    clock: systemClock,
    ids: randomUuids,
    rules,
    appEnv: config.app.environment,
  });
  const relay =
    config.kafka.brokers.length > 0
      ? createConfigOutboxRelay({
          database,
          publisher: (options.publisher ?? kafkaPublisherFor)(config),
          logger,
          registry: kernel.metrics.registry,
        })
      : undefined;
  // secret.read and access.denied past the CallerGate, recorded the same way for REST, gRPC, WebSocket.
  const audit = new AccessAudit(kernel.audit);
  const run = createUseCaseRunner(audit);
  // One implementation for both listeners (REST port's Connect and the h2c gRPC port).
  const rpc = configServiceImpl({ useCases, shutdownSignal, run, audit, metrics });
  let retention: { stop(): void } | undefined;
  let rekeying: Promise<void> | undefined;

  return {
    rest: async (app) => {
      await app.register(configRoutes({ useCases, rules, run }));
      await app.register(
        configUpdatesRoute({
          useCases,
          rules,
          audit,
          pingIntervalMs: section.websocket.ping_interval,
          maxBufferedBytes: section.websocket.max_buffered_bytes,
          drainTimeoutMs: section.websocket.drain_timeout,
          shutdownSignal,
          metrics,
        }),
      );
    },
    connect: {
      routes: (router) => router.service(ConfigService, rpc),
      roleFor: configRpcRole,
    },
    readiness: relay ? { kafka: relay.readiness } : {},
    async start() {
      await checkSecretKeys(database, cipher);
      if (cipher !== undefined) {
        // Rotation: values still wrapped by an older key move to the primary in the background.
        rekeying = rewrapSecrets(database, cipher).then(
          ({ rewrapped }) => {
            if (rewrapped > 0) logger.info({ rewrapped, keyId: cipher.primaryKeyId }, 'secrets re-wrapped');
          },
          (error: unknown) => logger.warn({ err: error }, 'secret re-wrap failed; retried at next start'),
        );
      }
      await feed.start();
      retention = startChangeLogRetention({ changeLog, retentionDays: section.watch.retention_days, logger });
      if (relay) relay.start();
      else trackOutboxBacklog(kernel.metrics.registry, database, configOutbox);
    },
    async stop() {
      await rekeying;
      retention?.stop();
      await relay?.stop();
      await feed.stop();
    },
  };
}

/** The config service (SPEC §5): REST, gRPC and the WebSocket feed over the same use cases, plus the Kafka relay. */
export function createConfigServerService(
  options: ConfigServerServiceOptions = {},
): ConfigServerServiceDefinition {
  return {
    configDir: fileURLToPath(new URL('../config', import.meta.url)),
    schema: configServerConfigSchema,
    envOverrides: configServerEnv,
    codes: configErrorCodes,
    openapi: {
      title: 'k1s0 system config server',
      description:
        'Configuration entries with versions, history and rollback (SPEC §5). Errors use the ErrorEnvelope.',
    },
    metricsPrefix: METRICS_PREFIX,
    migrations: {
      folder: fileURLToPath(new URL('../drizzle', import.meta.url)),
      schema: 'config_server',
      table: '__drizzle_migrations',
    },
    accessControl: { apiKeys: configApiKeys, auditLogs: configAuditLogs, roles: configRoles },
    build: (kernel) => build(kernel, options),
  };
}

export const configServerService: ConfigServerServiceDefinition = createConfigServerService();
