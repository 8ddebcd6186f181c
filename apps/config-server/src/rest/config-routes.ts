import type { ConfigRules } from '@k1s0/config-domain';
import {
  AUTHENTICATED_ERRORS,
  bearerSecurity,
  errorResponses,
  principalOf,
  ROLE_ERRORS,
  sendJsonText,
  type ZodTypeProvider,
} from '@k1s0/platform';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ReadItem } from '../access-audit.js';
import { configRoles, mayClearSecret, readerView } from '../roles.js';
import type { UseCaseRunner } from '../use-case-runner.js';
import type { ConfigServerUseCases } from '../use-cases.js';
import { changeJson, entryJson, entryJsonText, paginationJson, serviceEntryJson } from './presenters.js';
import {
  entryParamsSchema,
  listQuerySchema,
  namespaceParamsSchema,
  pageQuerySchema,
  putBodySchema,
  rollbackBodySchema,
  serviceParamsSchema,
} from './request-schemas.js';
import { entrySchema, historyResponse, listResponse, serviceConfigResponse } from './response-schemas.js';

export interface ConfigRoutesOptions {
  useCases: ConfigServerUseCases;
  rules: ConfigRules;
  /** The app's use-case runner (secret.read records). */
  run: UseCaseRunner;
}

/**
 * REST face of the config use cases (design 000 + 003 history/rollback). Routes only translate
 * HTTP ⇄ use case. Authentication runs `onRequest`, before the body is read, so an unauthenticated
 * caller gets 401 whatever it sent.
 */
/** OpenAPI operation metadata shared by every route here. */
const doc = (operationId: string, summary: string) => ({
  tags: ['config'],
  operationId,
  summary,
  security: bearerSecurity,
});

export function configRoutes(options: ConfigRoutesOptions) {
  return async (app: FastifyInstance): Promise<void> => {
    const { useCases, rules } = options;
    const putBody = putBodySchema(rules);
    const api = app.withTypeProvider<ZodTypeProvider>();
    const run = <T>(
      request: FastifyRequest,
      name: string,
      fn: () => Promise<T>,
      readItems?: (result: T) => Iterable<ReadItem>,
    ) =>
      options.run(
        {
          name,
          principal: principalOf(request),
          operation: `${request.method} ${request.routeOptions.url ?? request.url}`,
          protocol: 'rest',
        },
        fn,
        readItems,
      );

    api.get(
      '/api/v1/config/services/:service_name',
      {
        onRequest: app.requireAuth(configRoles.getServiceConfig),
        schema: {
          ...doc('getServiceConfig', 'Every entry of a service (namespace second segment = name)'),
          params: serviceParamsSchema,
          response: {
            200: serviceConfigResponse,
            ...errorResponses([...AUTHENTICATED_ERRORS, 404], { 404: 'SYS_CONFIG_SERVICE_NOT_FOUND' }),
          },
        },
      },
      async (request) => {
        const params = request.params;
        const result = await run(
          request,
          'GetServiceConfig',
          () =>
            useCases.getServiceConfig({
              serviceName: params.service_name,
              ...readerView(principalOf(request)),
            }),
          (result) => result.entries,
        );
        return { service_name: result.serviceName, entries: result.entries.map(serviceEntryJson) };
      },
    );

    api.get(
      '/api/v1/config/:namespace',
      {
        onRequest: app.requireAuth(configRoles.listConfigs),
        schema: {
          ...doc('listConfigs', 'Entries of a namespace, sorted by key, paginated'),
          params: namespaceParamsSchema,
          querystring: listQuerySchema,
          response: { 200: listResponse, ...errorResponses(ROLE_ERRORS) },
        },
      },
      async (request) => {
        const { params, query } = request;
        const result = await run(
          request,
          'ListConfigs',
          () =>
            useCases.listConfigs({
              namespace: params.namespace,
              page: query.page,
              pageSize: query.page_size,
              search: query.search,
              ...readerView(principalOf(request)),
            }),
          (result) => result.entries,
        );
        return { entries: result.entries.map(entryJson), pagination: paginationJson(result.pagination) };
      },
    );

    api.get(
      '/api/v1/config/:namespace/:key',
      {
        onRequest: app.requireAuth(configRoles.getConfig),
        schema: {
          ...doc('getConfig', 'One entry'),
          params: entryParamsSchema,
          response: {
            200: entrySchema,
            ...errorResponses([...ROLE_ERRORS, 404], { 404: 'SYS_CONFIG_KEY_NOT_FOUND' }),
          },
        },
      },
      async (request, reply) => {
        const params = request.params;
        const entry = await run(
          request,
          'GetConfig',
          () => useCases.getConfig({ ...params, ...readerView(principalOf(request)) }),
          (entry) => [entry],
        );
        return sendJsonText(reply, entryJsonText(entry));
      },
    );

    api.put(
      '/api/v1/config/:namespace/:key',
      {
        onRequest: app.requireAuth(configRoles.updateConfig),
        schema: {
          ...doc('updateConfig', 'Create (version 0) or update (current version) an entry'),
          params: entryParamsSchema,
          body: putBody,
          response: {
            200: entrySchema.meta({ description: 'Updated: version + 1' }),
            201: entrySchema.meta({ description: 'Created with version 1' }),
            ...errorResponses([...ROLE_ERRORS, 404, 409, 413], {
              404: 'SYS_CONFIG_KEY_NOT_FOUND: absent and version is not 0',
              409: 'SYS_CONFIG_VERSION_CONFLICT: version is not the current one (details: expected vs current)',
            }),
          },
        },
      },
      async (request, reply) => {
        const { params, body } = request;
        const principal = principalOf(request);
        const result = await run(request, 'UpdateConfig', () =>
          useCases.updateConfig({
            namespace: params.namespace,
            key: params.key,
            value: body.value,
            version: body.version,
            description: body.description,
            actor: principal.actor,
            requestId: request.id,
            scopes: principal.scopes,
            secret: body.secret,
            mayClearSecret: mayClearSecret(principal),
            metadata: body.metadata,
          }),
        );
        return reply.code(result.created ? 201 : 200).send(entryJson(result.entry));
      },
    );

    api.delete(
      '/api/v1/config/:namespace/:key',
      {
        onRequest: app.requireAuth(configRoles.deleteConfig),
        schema: {
          ...doc('deleteConfig', 'Delete an entry (its history stays readable)'),
          params: entryParamsSchema,
          response: {
            204: z.undefined().meta({ description: 'Deleted' }),
            ...errorResponses([...ROLE_ERRORS, 404, 409], {
              404: 'SYS_CONFIG_KEY_NOT_FOUND',
              409: 'SYS_CONFIG_VERSION_CONFLICT: concurrent writers kept changing the entry',
            }),
          },
        },
      },
      async (request, reply) => {
        const params = request.params;
        const { actor, scopes } = principalOf(request);
        await run(request, 'DeleteConfig', () =>
          useCases.deleteConfig({ ...params, actor, requestId: request.id, scopes }),
        );
        return reply.code(204).send();
      },
    );

    api.get(
      '/api/v1/config/:namespace/:key/history',
      {
        onRequest: app.requireAuth(configRoles.getConfigHistory),
        schema: {
          ...doc('getConfigHistory', 'Change log of a key, newest first, paginated; readable after a delete'),
          params: entryParamsSchema,
          querystring: pageQuerySchema,
          response: {
            200: historyResponse,
            ...errorResponses([...ROLE_ERRORS, 404], {
              404: 'SYS_CONFIG_KEY_NOT_FOUND: the key never existed',
            }),
          },
        },
      },
      async (request) => {
        const { params, query } = request;
        const result = await run(
          request,
          'GetConfigHistory',
          () =>
            useCases.getConfigHistory({
              ...params,
              page: query.page,
              pageSize: query.page_size,
              ...readerView(principalOf(request)),
            }),
          (result) => result.changes,
        );
        return { history: result.changes.map(changeJson), pagination: paginationJson(result.pagination) };
      },
    );

    api.post(
      '/api/v1/config/:namespace/:key/rollback',
      {
        onRequest: app.requireAuth(configRoles.rollbackConfig),
        schema: {
          ...doc('rollbackConfig', 'Write the value of an earlier version as a new version'),
          params: entryParamsSchema,
          body: rollbackBodySchema,
          response: {
            200: entrySchema,
            ...errorResponses([...ROLE_ERRORS, 404, 409, 413], {
              404: 'SYS_CONFIG_KEY_NOT_FOUND or the version does not exist',
              409: 'SYS_CONFIG_VERSION_CONFLICT: version is not the current one',
            }),
          },
        },
      },
      async (request) => {
        const { params, body } = request;
        const { actor, scopes } = principalOf(request);
        const result = await run(
          request,
          'RollbackConfig',
          () =>
            useCases.rollbackConfig({
              namespace: params.namespace,
              key: params.key,
              toVersion: body.to_version,
              version: body.version,
              actor,
              requestId: request.id,
              scopes,
            }),
          // The answer carries the restored value: a secret the caller did not send, so a read.
          (result) => [result.entry],
        );
        return entryJson(result.entry);
      },
    );
  };
}
