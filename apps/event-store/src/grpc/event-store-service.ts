import { create } from '@bufbuild/protobuf';
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import { type StoredEvent, Violations } from '@k1s0/eventstore-domain';
import { anySignal, encodesBinary, principalFromContext } from '@k1s0/platform';
import { EventStoreService, eventStoreV1 } from '@k1s0/proto';
import type { EventStoreUseCases } from '../use-cases.js';
import {
  newEventsFromProto,
  parseJsonBytes,
  snapshotToProto,
  storedEventToProto,
  toNumber,
  unlessZero,
} from './messages.js';
import { approximateMessageBytes, withEncodedEvents } from './stored-event-wire.js';

// Field numbers of the repeated/singular StoredEvent fields the read paths pre-encode.
const READ_EVENTS_EVENTS = 2;
const READ_ALL_EVENTS = 1;
const SUBSCRIBE_ALL_EVENT = 1;
const SUBSCRIBE_ALL_EVENTS = 2;

/** Payload bytes (plus ~200 per event for its other fields) above which a batched SubscribeAll message is cut. */
const MAX_BATCH_MESSAGE_BYTES = 1024 * 1024;

/**
 * `batch` cut into runs whose payloads (plus ~200 bytes per event for the other fields) stay under
 * the cap. Counted in UTF-16 units of the stored text (no encoding pass): a unit is at most 3 UTF-8
 * bytes, so a run stays under 3 MiB of payload bytes, below a client's default 4 MiB.
 */
function messageSized(batch: readonly StoredEvent[]): (readonly StoredEvent[])[] {
  const runs: (readonly StoredEvent[])[] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < batch.length; i++) {
    const event = batch[i] as StoredEvent;
    const size = approximateMessageBytes(event);
    if (i > start && bytes + size > MAX_BATCH_MESSAGE_BYTES) {
      runs.push(batch.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  runs.push(start === 0 ? batch : batch.slice(start));
  return runs;
}

/** EventStoreService over Connect/gRPC: protocol translation only; the rules live in the use cases. */
export function eventStoreGrpcRoutes(useCases: EventStoreUseCases, shutdownSignal: AbortSignal) {
  return (router: ConnectRouter): void => {
    router.service(EventStoreService, {
      async appendEvents(req, ctx) {
        const violations = new Violations();
        const events = newEventsFromProto(violations, req.events);
        violations.throwIfAny();
        const result = await useCases.appendEvents({
          streamId: req.streamId,
          expectedVersion: toNumber(req.expectedVersion),
          aggregateType: req.aggregateType,
          events,
          scopes: principalFromContext(ctx).scopes,
        });
        return {
          streamId: result.streamId,
          events: result.events.map(storedEventToProto),
          currentVersion: BigInt(result.currentVersion),
        };
      },

      async readEvents(req, ctx) {
        const result = await useCases.readEvents({
          streamId: req.streamId,
          fromVersion: unlessZero(req.fromVersion),
          toVersion: req.toVersion === undefined ? undefined : toNumber(req.toVersion),
          page: unlessZero(req.page),
          pageSize: unlessZero(req.pageSize),
          eventType: req.eventType,
          scopes: principalFromContext(ctx).scopes,
        });
        const head = {
          streamId: result.streamId,
          currentVersion: BigInt(result.currentVersion),
          totalCount: BigInt(result.pagination.totalCount),
          hasNext: result.pagination.hasNext,
        };
        // Binary codec: the page's events encoded straight from the stored text (stored-event-wire.ts).
        const encoded =
          encodesBinary(ctx) &&
          withEncodedEvents(
            create(eventStoreV1.ReadEventsResponseSchema, head),
            READ_EVENTS_EVENTS,
            result.events,
          );
        return encoded || { ...head, events: result.events.map(storedEventToProto) };
      },

      async readEventBySequence(req, ctx) {
        const event = await useCases.readEventBySequence({
          streamId: req.streamId,
          sequence: req.sequence,
          scopes: principalFromContext(ctx).scopes,
        });
        return { event: storedEventToProto(event) };
      },

      async createSnapshot(req, ctx) {
        const violations = new Violations();
        const state = parseJsonBytes(violations, 'state_json', req.stateJson);
        violations.throwIfAny();
        const snapshot = await useCases.createSnapshot({
          streamId: req.streamId,
          snapshotVersion: toNumber(req.snapshotVersion),
          // proto3 cannot tell "" from unset: empty means the stream's aggregate type.
          aggregateType: req.aggregateType === '' ? undefined : req.aggregateType,
          state,
          scopes: principalFromContext(ctx).scopes,
        });
        const { stateJson: _state, aggregateType: _type, ...created } = snapshotToProto(snapshot);
        return created;
      },

      async getLatestSnapshot(req, ctx) {
        const scopes = principalFromContext(ctx).scopes;
        return {
          snapshot: snapshotToProto(await useCases.getLatestSnapshot({ streamId: req.streamId, scopes })),
        };
      },

      async deleteStream(req, ctx: HandlerContext) {
        const result = await useCases.deleteStream({
          streamId: req.streamId,
          actor: principalFromContext(ctx).actor,
          scopes: principalFromContext(ctx).scopes,
        });
        return { success: true, message: result.message };
      },

      async readAll(req, ctx) {
        const batch = await useCases.readAll({
          fromSequence: req.fromSequence,
          limit: unlessZero(req.limit),
          eventTypes: req.eventTypes,
          scopes: principalFromContext(ctx).scopes,
        });
        const encoded =
          encodesBinary(ctx) &&
          withEncodedEvents(
            create(eventStoreV1.ReadAllResponseSchema, { nextSequence: batch.nextSequence }),
            READ_ALL_EVENTS,
            batch.events,
          );
        return encoded || { events: batch.events.map(storedEventToProto), nextSequence: batch.nextSequence };
      },

      async *subscribeAll(req, ctx: HandlerContext) {
        // Ends normally when the client goes away or the server shuts down; the listeners are removed.
        const stop = anySignal([ctx.signal, shutdownSignal]);
        try {
          // Events of streams outside the caller's scopes are left out by the use case (SPEC §8).
          const input = {
            fromSequence: req.fromSequence,
            eventTypes: req.eventTypes,
            scopes: principalFromContext(ctx).scopes,
            signal: stop.signal,
          };
          const binary = encodesBinary(ctx);
          if (!req.batch) {
            for await (const event of useCases.subscribeAll(input)) {
              yield (binary &&
                withEncodedEvents(create(eventStoreV1.SubscribeAllResponseSchema), SUBSCRIBE_ALL_EVENT, [
                  event,
                ])) || {
                event: storedEventToProto(event),
              };
            }
            return;
          }
          // One message per read batch (Connect's per-message cost paid once per batch), cut where
          // the payloads pass MAX_BATCH_MESSAGE_BYTES so no message nears a client's 4 MiB limit.
          for await (const batch of useCases.subscribeAllBatches(input)) {
            for (const events of messageSized(batch)) {
              yield (binary &&
                withEncodedEvents(
                  create(eventStoreV1.SubscribeAllResponseSchema),
                  SUBSCRIBE_ALL_EVENTS,
                  events,
                )) || {
                events: events.map(storedEventToProto),
              };
            }
          }
        } finally {
          stop.dispose();
        }
      },
    });
  };
}
