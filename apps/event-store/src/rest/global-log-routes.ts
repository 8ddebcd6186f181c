import { errorResponses, principalOf, ROLE_ERRORS, type ZodTypeProvider } from '@k1s0/platform';
import type { FastifyInstance } from 'fastify';
import { eventStoreRoles } from '../roles.js';
import type { EventStoreUseCases } from '../use-cases.js';
import { eventJson, sequenceNumber } from './presenters.js';
import { readAllQuery } from './request-schemas.js';
import { readAllResponse } from './response-schemas.js';
import { routeDoc } from './route-doc.js';

/**
 * `GET /api/v1/events?from_sequence=&limit=&event_type=` — event replay over the global log
 * (SPEC §6). Body: `{events: [...], next_sequence}`; pass `next_sequence` as the next
 * `from_sequence`. An empty `events` means "nothing more yet", not the end.
 */
export function globalLogRoutes(useCases: EventStoreUseCases) {
  return async (app: FastifyInstance): Promise<void> => {
    app.withTypeProvider<ZodTypeProvider>().get(
      '/api/v1/events',
      {
        onRequest: app.requireAuth(eventStoreRoles.readAll),
        schema: {
          ...routeDoc('readAll', 'Event replay: the global log in order from a sequence'),
          querystring: readAllQuery,
          response: { 200: readAllResponse, ...errorResponses(ROLE_ERRORS) },
        },
      },
      async (request) => {
        const query = request.query;
        const batch = await useCases.readAll({
          fromSequence: query.from_sequence,
          limit: query.limit,
          eventTypes: query.event_type,
          eventTypesField: 'event_type',
          // Events of streams outside the caller's scopes are left out (SPEC §8).
          scopes: principalOf(request).scopes,
        });
        return { events: batch.events.map(eventJson), next_sequence: sequenceNumber(batch.nextSequence) };
      },
    );
  };
}
