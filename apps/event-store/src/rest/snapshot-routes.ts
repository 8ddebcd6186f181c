import { errorResponses, principalOf, ROLE_ERRORS, type ZodTypeProvider } from '@k1s0/platform';
import type { FastifyInstance } from 'fastify';
import { eventStoreRoles } from '../roles.js';
import type { EventStoreUseCases } from '../use-cases.js';
import { createdSnapshotJson, snapshotJson } from './presenters.js';
import { createSnapshotBody, streamParams } from './request-schemas.js';
import { createdSnapshotSchema, snapshotSchema } from './response-schemas.js';
import { routeDoc } from './route-doc.js';

/** `/api/v1/streams/:stream_id/snapshots` (spec 002): create, latest. */
export function snapshotRoutes(useCases: EventStoreUseCases) {
  return async (app: FastifyInstance): Promise<void> => {
    const api = app.withTypeProvider<ZodTypeProvider>();
    api.post(
      '/api/v1/streams/:stream_id/snapshots',
      {
        onRequest: app.requireAuth(eventStoreRoles.createSnapshot),
        schema: {
          ...routeDoc('createSnapshot', 'Store a snapshot at 0 ≤ snapshot_version ≤ current version'),
          params: streamParams,
          body: createSnapshotBody,
          response: {
            201: createdSnapshotSchema,
            ...errorResponses([...ROLE_ERRORS, 404, 413], { 404: 'SYS_EVSTORE_STREAM_NOT_FOUND' }),
          },
        },
      },
      async (request, reply) => {
        const { params, body } = request;
        const { stream_id } = params;
        const snapshot = await useCases.createSnapshot({
          streamId: stream_id,
          snapshotVersion: body.snapshot_version,
          aggregateType: body.aggregate_type,
          state: body.state,
          scopes: principalOf(request).scopes,
        });
        return reply.code(201).send(createdSnapshotJson(snapshot));
      },
    );

    api.get(
      '/api/v1/streams/:stream_id/snapshots/latest',
      {
        onRequest: app.requireAuth(eventStoreRoles.getLatestSnapshot),
        schema: {
          ...routeDoc('getLatestSnapshot', 'The snapshot with the highest version'),
          params: streamParams,
          response: {
            200: snapshotSchema,
            ...errorResponses([...ROLE_ERRORS, 404], { 404: 'SYS_EVSTORE_SNAPSHOT_NOT_FOUND' }),
          },
        },
      },
      async (request) => {
        const { stream_id } = request.params;
        return snapshotJson(
          await useCases.getLatestSnapshot({ streamId: stream_id, scopes: principalOf(request).scopes }),
        );
      },
    );
  };
}
