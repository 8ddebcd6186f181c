/** Any JSON document, as stored in `payload`, `metadata` and snapshot `state` (JSONB columns). */
export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}
