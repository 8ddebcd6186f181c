/** A value that survives a JSON round trip unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A stored config value: any JSON except `null` (SPEC §5); `null` in a change means "no value". */
export type ConfigValue = Exclude<JsonValue, null>;
