import { findErrorBy } from '@platformatic/kafka';
import type { OutboxMessage, Publisher } from '../outbox/publisher.js';

/**
 * Broker answers that reject one message for good: sending it again can never succeed, and
 * retrying it in place would stop the relay (and every later message) forever. Errors that
 * concern every message alike (unknown topic, authorization, a down broker) are NOT here: they
 * stay retried, or the whole log would drain into the dead-letter table during an outage.
 */
export const PERMANENT_MESSAGE_ERRORS: readonly string[] = [
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TIMESTAMP',
];

/** The broker error id (e.g. 'MESSAGE_TOO_LARGE') when `error` rejects a message permanently. */
export function permanentMessageError(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  return PERMANENT_MESSAGE_ERRORS.find((id) => findErrorBy(error, 'apiId', id) !== null);
}

/** A message the broker refused for good, with why (`reason` is the broker's error id). */
export interface DeadLetter {
  /** Index of the message in the batch given to publishOrDeadLetter. */
  index: number;
  reason: string;
  error: unknown;
}

/**
 * Publishes `messages` in order. If the broker rejects the batch permanently, the messages are
 * sent one by one, in order, so only the culprit(s) are set aside: each is passed to `deadLetter`
 * (which must record it durably before returning) and publishing continues with the next. Any
 * other failure is thrown, and the caller retries the batch from its start (messages sent one by
 * one before it are sent again: at least once; `deadLetter` must be idempotent for the same reason).
 */
export async function publishOrDeadLetter(
  publisher: Publisher,
  messages: OutboxMessage[],
  deadLetter: (letter: DeadLetter) => Promise<void>,
): Promise<void> {
  try {
    await publisher.publish(messages);
    return;
  } catch (error) {
    const reason = permanentMessageError(error);
    if (reason === undefined) throw error;
    if (messages.length === 1) {
      await deadLetter({ index: 0, reason, error });
      return;
    }
  }
  for (const [index, message] of messages.entries()) {
    try {
      await publisher.publish([message]);
    } catch (error) {
      const reason = permanentMessageError(error);
      if (reason === undefined) throw error;
      await deadLetter({ index, reason, error });
    }
  }
}
