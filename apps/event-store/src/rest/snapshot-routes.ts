import type { FastifyInstance } from 'fastify';
import { eventStoreRoles } from '../roles.js';
import type { EventStoreUseCases } from '../use-cases.js';
import { createdSnapshotJson, snapshotJson } from '../wire-format.js';
import { createSnapshotBody, parseRequest, streamParams } from './request-schemas.js';

/** `/api/v1/streams/:stream_id/snapshots` (spec 002): create, latest. */
export function snapshotRoutes(useCases: EventStoreUseCases) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post(
      '/api/v1/streams/:stream_id/snapshots',
      { onRequest: app.requireAuth(eventStoreRoles.createSnapshot) },
      async (request, reply) => {
        const { stream_id } = parseRequest(streamParams, request.params, 'stream_id');
        const body = parseRequest(createSnapshotBody, request.body, 'body');
        const snapshot = await useCases.createSnapshot({
          streamId: stream_id,
          snapshotVersion: body.snapshot_version,
          aggregateType: body.aggregate_type,
          state: body.state,
        });
        return reply.code(201).send(createdSnapshotJson(snapshot));
      },
    );

    app.get(
      '/api/v1/streams/:stream_id/snapshots/latest',
      { onRequest: app.requireAuth(eventStoreRoles.getLatestSnapshot) },
      async (request) => {
        const { stream_id } = parseRequest(streamParams, request.params, 'stream_id');
        return snapshotJson(await useCases.getLatestSnapshot({ streamId: stream_id }));
      },
    );
  };
}
