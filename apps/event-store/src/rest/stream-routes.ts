import { errorResponses, principalOf, ROLE_ERRORS, type ZodTypeProvider } from '@k1s0/platform';
import type { FastifyInstance } from 'fastify';
import { eventStoreRoles } from '../roles.js';
import type { EventStoreUseCases } from '../use-cases.js';
import { streamParams } from './request-schemas.js';
import { deleteStreamResponse } from './response-schemas.js';
import { routeDoc } from './route-doc.js';

/** `DELETE /api/v1/streams/:stream_id` (spec 002, sys_admin only). */
export function streamRoutes(useCases: EventStoreUseCases) {
  return async (app: FastifyInstance): Promise<void> => {
    app.withTypeProvider<ZodTypeProvider>().delete(
      '/api/v1/streams/:stream_id',
      {
        onRequest: app.requireAuth(eventStoreRoles.deleteStream),
        schema: {
          ...routeDoc('deleteStream', "Delete a stream's events and snapshots (recorded with the actor)"),
          params: streamParams,
          response: {
            200: deleteStreamResponse,
            ...errorResponses([...ROLE_ERRORS, 404], { 404: 'SYS_EVSTORE_STREAM_NOT_FOUND' }),
          },
        },
      },
      async (request) => {
        const { stream_id } = request.params;
        const result = await useCases.deleteStream({
          streamId: stream_id,
          actor: principalOf(request).actor,
          scopes: principalOf(request).scopes,
        });
        return { success: true as const, message: result.message };
      },
    );
  };
}
