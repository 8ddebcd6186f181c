import { create, toBinary } from '@bufbuild/protobuf';
import { type ConfigValue, changeFor, type PendingConfigChange } from '@k1s0/config-domain';
import type { OutboxMessage } from '@k1s0/platform';
import { ConfigChangedEventSchema, commonEventV1 } from '@k1s0/proto';
import { isSpanContextValid, trace } from '@opentelemetry/api';

export const CONFIG_CHANGED_EVENT_TYPE = 'config.changed';
export const CONFIG_CHANGED_SCHEMA_VERSION = 1;
const SOURCE = 'config-server';

export interface EventContext {
  /** Request id of the change's request ('' when none). */
  readonly correlationId: string;
}

function jsonText(value: ConfigValue | null): string {
  return value === null ? '' : JSON.stringify(value);
}

/** Trace id of the active span, '' when there is none (tracing not configured). */
function activeTraceId(): string {
  const context = trace.getActiveSpan()?.spanContext();
  return context !== undefined && isSpanContextValid(context) ? context.traceId : '';
}

/**
 * The Kafka message announcing a committed change (design 001 ConfigChangedEvent, protobuf binary),
 * keyed by namespace so per-namespace order survives partitioning. The event id is the change-log
 * row id, so consumers can deduplicate the relay's at-least-once redeliveries. Values of secret
 * entries are "[redacted]" (SPEC §8).
 */
export function configChangedMessage(
  committed: PendingConfigChange,
  topic: string,
  context: EventContext,
): OutboxMessage {
  // SPEC §8: the event of a secret entry carries "[redacted]", never the value (nor the ciphertext).
  const change = changeFor(committed, false);
  const event = create(ConfigChangedEventSchema, {
    metadata: create(commonEventV1.EventMetadataSchema, {
      eventId: change.id,
      eventType: CONFIG_CHANGED_EVENT_TYPE,
      source: SOURCE,
      timestamp: BigInt(change.changedAt.getTime()),
      traceId: activeTraceId(),
      correlationId: context.correlationId,
      schemaVersion: CONFIG_CHANGED_SCHEMA_VERSION,
    }),
    namespace: change.namespace,
    key: change.key,
    oldValue: jsonText(change.oldValue),
    newValue: jsonText(change.newValue),
    oldVersion: change.oldVersion,
    newVersion: change.newVersion,
    changeType: change.changeType,
    changedBy: change.changedBy,
  });
  return {
    topic,
    key: change.namespace,
    value: toBinary(ConfigChangedEventSchema, event),
    headers: { 'content-type': 'application/x-protobuf', 'event-type': CONFIG_CHANGED_EVENT_TYPE },
  };
}
