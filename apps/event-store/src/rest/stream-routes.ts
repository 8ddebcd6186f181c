import { principalOf } from '@k1s0/platform';
import type { FastifyInstance } from 'fastify';
import { eventStoreRoles } from '../roles.js';
import type { EventStoreUseCases } from '../use-cases.js';
import { parseRequest, streamParams } from './request-schemas.js';

/** `DELETE /api/v1/streams/:stream_id` (spec 002, sys_admin only). */
export function streamRoutes(useCases: EventStoreUseCases) {
  return async (app: FastifyInstance): Promise<void> => {
    app.delete(
      '/api/v1/streams/:stream_id',
      { onRequest: app.requireAuth(eventStoreRoles.deleteStream) },
      async (request) => {
        const { stream_id } = parseRequest(streamParams, request.params, 'stream_id');
        const result = await useCases.deleteStream({
          streamId: stream_id,
          actor: principalOf(request).actor,
        });
        return { success: true, message: result.message };
      },
    );
  };
}
