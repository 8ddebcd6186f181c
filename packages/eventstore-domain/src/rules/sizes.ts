import { eventStoreErrors } from '../errors.js';

/** UTF-8 length of `text` without encoding it (what PostgreSQL and Kafka will hold). */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4; // a surrogate pair is one 4-byte code point
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

export interface SizeLimits {
  maxEventBytes: number;
  maxRequestBytes: number;
}

/**
 * Serializes each event's payload and metadata once, checks every event against `maxEventBytes`
 * and their sum against `maxRequestBytes` (throwing 413 / RESOURCE_EXHAUSTED before any write),
 * and returns the events carrying that JSON text for the store. Same rule for REST and gRPC.
 */
export function sizedEvents<E extends { payload: unknown; metadata: unknown }>(
  events: readonly E[],
  limits: SizeLimits,
): Array<E & { payloadJson: string; metadataJson: string }> {
  let total = 0;
  return events.map((event, index) => {
    const payloadJson = JSON.stringify(event.payload);
    const metadataJson = JSON.stringify(event.metadata);
    const bytes = utf8ByteLength(payloadJson) + utf8ByteLength(metadataJson);
    if (bytes > limits.maxEventBytes)
      throw eventStoreErrors.payloadTooLarge(`events[${index}]`, bytes, limits.maxEventBytes);
    total += bytes;
    if (total > limits.maxRequestBytes)
      throw eventStoreErrors.payloadTooLarge('events', total, limits.maxRequestBytes);
    return { ...event, payloadJson, metadataJson };
  });
}
