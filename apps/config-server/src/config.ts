import {
  durationMs,
  type EnvOverride,
  type KeyRing,
  KeyRingError,
  parseKeyRing,
  platformConfigSchema,
  readKeyRingFile,
} from '@k1s0/platform';
import { z } from 'zod';

/** The topic of design 001 ("イベントと Kafka トピックの対応"). */
export const DEFAULT_CHANGED_TOPIC = 'k1s0.system.config.changed.v1';

const kafkaSchema = platformConfigSchema.shape.kafka.unwrap().extend({
  topic_changed: z.string().min(1).default(DEFAULT_CHANGED_TOPIC),
});

/**
 * Key-encryption keys of secret values (SPEC §8): `keyring` (CONFIG_KEYRING) as text, or
 * `keyring_file` (CONFIG_KEYRING_FILE) naming a file holding it; parsed here so that a bad ring
 * is a configuration error naming the field. `ring` is undefined when neither is set.
 */
const secretsSchema = z
  .object({ keyring: z.string().optional(), keyring_file: z.string().optional() })
  .default({})
  .transform((section, ctx): { ring: KeyRing | undefined } => {
    const field = section.keyring !== undefined ? 'keyring' : 'keyring_file';
    try {
      if (section.keyring !== undefined) return { ring: parseKeyRing(section.keyring) };
      if (section.keyring_file !== undefined) return { ring: readKeyRingFile(section.keyring_file) };
      return { ring: undefined };
    } catch (error) {
      if (!(error instanceof KeyRingError)) throw error;
      ctx.addIssue({ code: 'custom', path: [field], message: error.message });
      return z.NEVER;
    }
  });

/** The config server's environment variables beyond the platform's (SPEC §2). */
export const configServerEnv: ReadonlyArray<EnvOverride> = [
  { env: 'CONFIG_KEYRING', path: ['config_server', 'secrets', 'keyring'] },
  { env: 'CONFIG_KEYRING_FILE', path: ['config_server', 'secrets', 'keyring_file'] },
];

/** `config_server:` section of config.yaml (design 000 "config.yaml", plus value/watch limits). */
const configServerSection = z
  .object({
    cache: z
      .object({
        ttl: durationMs.default(60_000),
        max_entries: z.coerce.number().int().min(1).default(10_000),
      })
      .default({ ttl: 60_000, max_entries: 10_000 }),
    namespace: z
      .object({
        allowed_tiers: z
          .array(z.string().regex(/^[a-z0-9_-]+$/))
          .min(1)
          .default(['system', 'business', 'service']),
        max_depth: z.coerce.number().int().min(2).max(16).default(4),
      })
      .default({ allowed_tiers: ['system', 'business', 'service'], max_depth: 4 }),
    value: z
      .object({
        max_bytes: z.coerce
          .number()
          .int()
          .min(1)
          .default(64 * 1024),
      })
      .default({ max_bytes: 64 * 1024 }),
    watch: z
      .object({
        /** Change-log rows older than this are pruned (0 = keep forever). */
        retention_days: z.coerce.number().int().min(0).default(365),
        /** Safety poll of the change feed, for notifications lost while LISTEN reconnects. */
        poll_interval: durationMs.default(1_000),
      })
      .default({ retention_days: 365, poll_interval: 1_000 }),
    /** `GET /ws/v1/configs/updates`, the WebSocket feed for REST consumers (SPEC §8). */
    websocket: z
      .object({
        /** A ping frame this often keeps proxies from idling the feed out; no pong by the next one = dead peer. */
        ping_interval: durationMs.pipe(z.number().int().min(1)).default(30_000),
        /** Bytes a feed may have queued unsent (ws bufferedAmount) before it counts as behind. */
        max_buffered_bytes: z.coerce
          .number()
          .int()
          .min(1)
          .default(1024 * 1024),
        /** How long a feed over max_buffered_bytes may take to drain before it is closed with 1013. */
        drain_timeout: durationMs.pipe(z.number().int().min(1)).default(5_000),
      })
      .default({ ping_interval: 30_000, max_buffered_bytes: 1024 * 1024, drain_timeout: 5_000 }),
    secrets: secretsSchema,
    /** SPEC §8: maximum serialized size of an entry's `metadata`. */
    metadata: z
      .object({
        max_bytes: z.coerce
          .number()
          .int()
          .min(1)
          .default(16 * 1024),
      })
      .default({ max_bytes: 16 * 1024 }),
  })
  .default({
    cache: { ttl: 60_000, max_entries: 10_000 },
    namespace: { allowed_tiers: ['system', 'business', 'service'], max_depth: 4 },
    value: { max_bytes: 64 * 1024 },
    watch: { retention_days: 365, poll_interval: 1_000 },
    websocket: { ping_interval: 30_000, max_buffered_bytes: 1024 * 1024, drain_timeout: 5_000 },
    secrets: { ring: undefined },
    metadata: { max_bytes: 16 * 1024 },
  });

export const configServerConfigSchema = platformConfigSchema.extend({
  kafka: kafkaSchema.default({ brokers: [], topic_changed: DEFAULT_CHANGED_TOPIC }),
  config_server: configServerSection,
});

export type ConfigServerConfig = z.infer<typeof configServerConfigSchema>;
