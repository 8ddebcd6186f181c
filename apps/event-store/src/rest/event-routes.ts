import { errorResponses, principalOf, ROLE_ERRORS, type ZodTypeProvider } from '@k1s0/platform';
import type { FastifyInstance } from 'fastify';
import { eventStoreRoles } from '../roles.js';
import type { EventStoreUseCases } from '../use-cases.js';
import { eventJson } from './presenters.js';
import { appendBody, eventParams, readEventsQuery, streamParams } from './request-schemas.js';
import { appendResponse, eventSchema, readEventsResponse } from './response-schemas.js';
import { routeDoc } from './route-doc.js';

/** `/api/v1/streams/:stream_id/events` (spec 002): append, read a page, read one by sequence. */
export function eventRoutes(useCases: EventStoreUseCases) {
  return async (app: FastifyInstance): Promise<void> => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    api.post(
      '/api/v1/streams/:stream_id/events',
      {
        onRequest: app.requireAuth(eventStoreRoles.appendEvents),
        schema: {
          ...routeDoc('appendEvents', 'Append 1–100 events atomically (idempotent with event_id)'),
          params: streamParams,
          body: appendBody,
          response: {
            201: appendResponse.meta({ description: 'Appended (or the original answer to an exact retry)' }),
            ...errorResponses([...ROLE_ERRORS, 409, 413], {
              409: 'SYS_EVSTORE_VERSION_CONFLICT, SYS_EVSTORE_STREAM_ALREADY_EXISTS or a reused event_id',
            }),
          },
        },
      },
      async (request, reply) => {
        const { params, body } = request;
        const { stream_id } = params;
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
          scopes: principalOf(request).scopes,
        });
        // A recognised retry answers exactly like the original append did.
        return reply.code(201).send({
          stream_id: result.streamId,
          events: result.events.map(eventJson),
          current_version: result.currentVersion,
        });
      },
    );

    api.get(
      '/api/v1/streams/:stream_id/events',
      {
        onRequest: app.requireAuth(eventStoreRoles.readEvents),
        schema: {
          ...routeDoc('readEvents', 'A page of a stream, ascending by version'),
          params: streamParams,
          querystring: readEventsQuery,
          response: {
            200: readEventsResponse,
            ...errorResponses([...ROLE_ERRORS, 404], { 404: 'SYS_EVSTORE_STREAM_NOT_FOUND' }),
          },
        },
      },
      async (request) => {
        const { params, query } = request;
        const { stream_id } = params;
        const result = await useCases.readEvents({
          streamId: stream_id,
          fromVersion: query.from_version,
          toVersion: query.to_version,
          eventType: query.event_type,
          page: query.page,
          pageSize: query.page_size,
          scopes: principalOf(request).scopes,
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

    api.get(
      '/api/v1/streams/:stream_id/events/:sequence',
      {
        onRequest: app.requireAuth(eventStoreRoles.readEventBySequence),
        schema: {
          ...routeDoc('readEventBySequence', 'One event of the stream by its global sequence'),
          params: eventParams,
          response: {
            200: eventSchema,
            ...errorResponses([...ROLE_ERRORS, 404], {
              404: 'SYS_EVSTORE_EVENT_NOT_FOUND: absent or in another stream',
            }),
          },
        },
      },
      async (request) => {
        const params = request.params;
        const event = await useCases.readEventBySequence({
          streamId: params.stream_id,
          sequence: params.sequence,
          scopes: principalOf(request).scopes,
        });
        return eventJson(event);
      },
    );
  };
}
