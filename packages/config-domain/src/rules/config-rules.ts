/**
 * Limits of the config rules (SPEC §5), read from `config_server.namespace` and friends in
 * config.yaml. Column sizes of the schema (255) are fixed and live in the rule modules instead.
 */
export interface ConfigRules {
  /** Allowed first namespace segments. */
  readonly allowedTiers: readonly string[];
  /** Maximum number of namespace segments (minimum is always 2). */
  readonly maxDepth: number;
  /** Maximum UTF-8 size of the JSON-serialized value. */
  readonly maxValueBytes: number;
  /**
   * Maximum nesting of arrays/objects in a value. Not in the seed: it keeps absurdly deep
   * documents (cheap to send under the body limit) from overflowing the stack in JSON handling.
   */
  readonly maxValueDepth: number;
  /** Maximum description length in Unicode code points (the column is TEXT; 1000 is our choice). */
  readonly maxDescriptionLength: number;
  /** Maximum UTF-8 size of an entry's JSON-serialized `metadata` (SPEC §8: 16 KiB). */
  readonly maxMetadataBytes: number;
}

export const defaultConfigRules: ConfigRules = {
  allowedTiers: ['system', 'business', 'service'],
  maxDepth: 4,
  maxValueBytes: 64 * 1024,
  maxValueDepth: 64,
  maxDescriptionLength: 1000,
  maxMetadataBytes: 16 * 1024,
};

/** Defaults overlaid with whatever the configuration sets. */
export function configRules(overrides: Partial<ConfigRules> = {}): ConfigRules {
  return { ...defaultConfigRules, ...overrides };
}
