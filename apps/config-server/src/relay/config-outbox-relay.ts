import {
  createOutboxRelay,
  type Database,
  type Logger,
  type Publisher,
  type ReadinessCheck,
  type Registry,
} from '@k1s0/platform';
import { configOutbox, configOutboxDeadLetters } from '../persistence/schema.js';

export interface ConfigOutboxRelayOptions {
  database: Database;
  /** Where the rows go (the service's Kafka publisher); closed when the relay stops. */
  publisher: Publisher;
  logger: Logger;
  registry: Registry;
}

export interface ConfigOutboxRelay {
  start(): void;
  stop(): Promise<void>;
  readiness: ReadinessCheck;
}

/**
 * Relays ConfigChangedEvent rows from the outbox to Kafka (one active replica, at least once, in
 * outbox order, so per-namespace commit order holds). Only built when brokers are configured;
 * otherwise events wait in the outbox (SPEC §2).
 */
export function createConfigOutboxRelay(options: ConfigOutboxRelayOptions): ConfigOutboxRelay {
  const { publisher } = options;
  const relay = createOutboxRelay({
    database: options.database,
    table: configOutbox,
    deadLetters: configOutboxDeadLetters,
    publisher,
    logger: options.logger,
    leaderLockKey: 'config_server.outbox_relay',
    metrics: options.registry,
  });
  return {
    start: () => relay.start(),
    async stop() {
      await relay.stop();
      await publisher.close();
    },
    readiness: async () => {
      await publisher.ping?.();
    },
  };
}
