import type { FastifyInstance } from 'fastify';
import { eventStoreRoles } from '../roles.js';
import type { EventStoreUseCases } from '../use-cases.js';
import { eventJson } from '../wire-format.js';
import { appendBody, eventParams, parseRequest, readEventsQuery, streamParams } from './request-schemas.js';

/** `/api/v1/streams/:stream_id/events` (spec 002): append, read a page, read one by sequence. */
export function eventRoutes(useCases: EventStoreUseCases) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post(
      '/api/v1/streams/:stream_id/events',
      { onRequest: app.requireAuth(eventStoreRoles.appendEvents) },
      async (request, reply) => {
        const { stream_id } = parseRequest(streamParams, request.params, 'stream_id');
        const body = parseRequest(appendBody, request.body, 'body');
        const result = await useCases.appendEvents({
          streamId: stream_id,
          expectedVersion: body.expected_version,
          aggregateType: body.aggregate_type,
          events: body.events.map((event) => ({
            eventId: event.event_id,
            eventType: event.event_type,
            payload: event.payload,
            metadata: event.metadata,
            occurredAt: event.occurred_at,
          })),
        });
        // A recognised retry answers exactly like the original append did.
        return reply.code(201).send({
          stream_id: result.streamId,
          events: result.events.map(eventJson),
          current_version: result.currentVersion,
        });
      },
    );

    app.get(
      '/api/v1/streams/:stream_id/events',
      { onRequest: app.requireAuth(eventStoreRoles.readEvents) },
      async (request) => {
        const { stream_id } = parseRequest(streamParams, request.params, 'stream_id');
        const query = parseRequest(readEventsQuery, request.query, 'query');
        const result = await useCases.readEvents({
          streamId: stream_id,
          fromVersion: query.from_version,
          toVersion: query.to_version,
          eventType: query.event_type,
          page: query.page,
          pageSize: query.page_size,
        });
        return {
          stream_id: result.streamId,
          events: result.events.map(eventJson),
          current_version: result.currentVersion,
          pagination: {
            total_count: result.pagination.totalCount,
            page: result.pagination.page,
            page_size: result.pagination.pageSize,
            has_next: result.pagination.hasNext,
          },
        };
      },
    );

    app.get(
      '/api/v1/streams/:stream_id/events/:sequence',
      { onRequest: app.requireAuth(eventStoreRoles.readEventBySequence) },
      async (request) => {
        const params = parseRequest(eventParams, request.params, 'sequence');
        const event = await useCases.readEventBySequence({
          streamId: params.stream_id,
          sequence: params.sequence,
        });
        return eventJson(event);
      },
    );
  };
}
