import type { OrderedLogSpec } from '@k1s0/platform';

/**
 * The global event log's allocator (platform db/ordered-log.ts): `event_store.allocate_sequences(n)`
 * hands out `events.sequence` values together with the transaction id, so sequence order equals
 * commit-visibility order for readers filtering below the safe horizon. The migration
 * `drizzle/*_ordered_log_and_append_only.sql` holds `orderedLogFunctionSql(eventsLog)`.
 */
export const eventsLog: OrderedLogSpec = {
  schema: 'event_store',
  functionName: 'allocate_sequences',
  sequence: 'event_store.events_sequence_seq',
  // Fixed and unique among the system's ordered logs (config-server uses its own key).
  lockKey: 700_002,
};
