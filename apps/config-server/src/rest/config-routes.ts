import type { ConfigRules, ConfigUseCases } from '@k1s0/config-domain';
import { parseInput, principalOf } from '@k1s0/platform';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { configErrorCodes } from '../error-codes.js';
import { configRoles } from '../roles.js';
import { runUseCase } from '../use-case-runner.js';
import { changeJson, entryJson, paginationJson, serviceEntryJson } from './presenters.js';
import {
  entryParamsSchema,
  listQuerySchema,
  namespaceParamsSchema,
  pageQuerySchema,
  putBodySchema,
  rollbackBodySchema,
  serviceParamsSchema,
} from './request-schemas.js';

export interface ConfigRoutesOptions {
  useCases: ConfigUseCases;
  rules: ConfigRules;
}

/**
 * REST face of the config use cases (design 000 + 003 history/rollback). Routes only translate
 * HTTP ⇄ use case. Authentication runs `onRequest`, before the body is read, so an unauthenticated
 * caller gets 401 whatever it sent.
 */
export async function configRoutes(app: FastifyInstance, options: ConfigRoutesOptions): Promise<void> {
  const { useCases, rules } = options;
  const putBody = putBodySchema(rules);
  const run = <T>(request: FastifyRequest, name: string, fn: () => Promise<T>) =>
    runUseCase(name, request.id, fn);

  app.get(
    '/api/v1/config/services/:service_name',
    { onRequest: app.requireAuth(configRoles.getServiceConfig) },
    async (request) => {
      const params = parseInput(serviceParamsSchema, request.params, configErrorCodes, 'service_name');
      const result = await run(request, 'GetServiceConfig', () =>
        useCases.getServiceConfig.execute({ serviceName: params.service_name }),
      );
      return { service_name: result.serviceName, entries: result.entries.map(serviceEntryJson) };
    },
  );

  app.get(
    '/api/v1/config/:namespace',
    { onRequest: app.requireAuth(configRoles.listConfigs) },
    async (request) => {
      const params = parseInput(namespaceParamsSchema, request.params, configErrorCodes, 'namespace');
      const query = parseInput(listQuerySchema, request.query, configErrorCodes, 'query');
      const result = await run(request, 'ListConfigs', () =>
        useCases.listConfigs.execute({
          namespace: params.namespace,
          page: query.page,
          pageSize: query.page_size,
          search: query.search,
        }),
      );
      return { entries: result.entries.map(entryJson), pagination: paginationJson(result.pagination) };
    },
  );

  app.get(
    '/api/v1/config/:namespace/:key',
    { onRequest: app.requireAuth(configRoles.getConfig) },
    async (request) => {
      const params = parseInput(entryParamsSchema, request.params, configErrorCodes, 'key');
      const entry = await run(request, 'GetConfig', () => useCases.getConfig.execute(params));
      return entryJson(entry);
    },
  );

  app.put(
    '/api/v1/config/:namespace/:key',
    { onRequest: app.requireAuth(configRoles.updateConfig) },
    async (request, reply) => {
      const params = parseInput(entryParamsSchema, request.params, configErrorCodes, 'key');
      const body = parseInput(putBody, request.body, configErrorCodes, 'body');
      const actor = principalOf(request).actor;
      const result = await run(request, 'UpdateConfig', () =>
        useCases.updateConfig.execute({
          namespace: params.namespace,
          key: params.key,
          value: body.value,
          version: body.version,
          description: body.description,
          actor,
        }),
      );
      return reply.code(result.created ? 201 : 200).send(entryJson(result.entry));
    },
  );

  app.delete(
    '/api/v1/config/:namespace/:key',
    { onRequest: app.requireAuth(configRoles.deleteConfig) },
    async (request, reply) => {
      const params = parseInput(entryParamsSchema, request.params, configErrorCodes, 'key');
      const actor = principalOf(request).actor;
      await run(request, 'DeleteConfig', () => useCases.deleteConfig.execute({ ...params, actor }));
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/v1/config/:namespace/:key/history',
    { onRequest: app.requireAuth(configRoles.getConfigHistory) },
    async (request) => {
      const params = parseInput(entryParamsSchema, request.params, configErrorCodes, 'key');
      const query = parseInput(pageQuerySchema, request.query, configErrorCodes, 'query');
      const result = await run(request, 'GetConfigHistory', () =>
        useCases.getConfigHistory.execute({ ...params, page: query.page, pageSize: query.page_size }),
      );
      return { history: result.changes.map(changeJson), pagination: paginationJson(result.pagination) };
    },
  );

  app.post(
    '/api/v1/config/:namespace/:key/rollback',
    { onRequest: app.requireAuth(configRoles.rollbackConfig) },
    async (request) => {
      const params = parseInput(entryParamsSchema, request.params, configErrorCodes, 'key');
      const body = parseInput(rollbackBodySchema, request.body, configErrorCodes, 'body');
      const actor = principalOf(request).actor;
      const result = await run(request, 'RollbackConfig', () =>
        useCases.rollbackConfig.execute({
          namespace: params.namespace,
          key: params.key,
          toVersion: body.to_version,
          version: body.version,
          actor,
        }),
      );
      return entryJson(result.entry);
    },
  );
}
