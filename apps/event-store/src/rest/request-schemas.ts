import type { EventMetadata, JsonValue } from '@k1s0/eventstore-domain';
import { z } from 'zod';

/**
 * Edge validation of REST input, run by Fastify from the route schemas (and documented in
 * /openapi.json from the same schemas): JSON types and integer syntax only. Ranges and business
 * rules (expected_version sentinels, page bounds, UUIDs, stream ids) are the domain's, so REST and
 * gRPC report them identically.
 */
/**
 * Any JSON value (required). Request bodies only ever come from the JSON body parser
 * (service-runtime's application/json parser is the only one), so whatever is present is JSON
 * already: walking it again with z.json() cost ~4% of the service CPU per append (issue 13
 * profile) to prove nothing. Opaque to the JSON Schema conversion on purpose: a recursive JSON
 * schema would come out as references to schemas the document does not contain.
 */
const json = z.custom<JsonValue>((value) => value !== undefined).meta({ description: 'Any JSON value' });

/** A query/path integer: decimal digits with an optional minus sign. */
const integerText = z.string().regex(/^-?\d+$/, 'must be an integer');
export const integerParam = integerText.transform(Number);
export const bigintParam = integerText.transform((text) => BigInt(text));

export const streamParams = z.object({ stream_id: z.string() });
export const eventParams = z.object({ stream_id: z.string(), sequence: bigintParam });

export const appendBody = z.object({
  events: z.array(
    z.object({
      event_id: z.string().optional(),
      event_type: z.string(),
      payload: json,
      metadata: z
        .record(z.string(), json)
        .optional()
        .transform((metadata) => metadata as EventMetadata | undefined),
      occurred_at: z.iso
        .datetime({ offset: true, message: 'must be an RFC 3339 timestamp' })
        .transform((text) => new Date(text))
        .optional(),
    }),
  ),
  expected_version: z.number().int(),
  aggregate_type: z.string().optional(),
});

export const readEventsQuery = z.object({
  from_version: integerParam.optional(),
  to_version: integerParam.optional(),
  event_type: z.string().optional(),
  page: integerParam.optional(),
  page_size: integerParam.optional(),
});

export const readAllQuery = z.object({
  from_sequence: bigintParam.optional(),
  limit: integerParam.optional(),
  /** Repeat the parameter for several types. */
  event_type: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((types) => (types === undefined ? undefined : Array.isArray(types) ? types : [types])),
});

export const createSnapshotBody = z.object({
  snapshot_version: z.number().int(),
  aggregate_type: z.string().optional(),
  state: json,
});
