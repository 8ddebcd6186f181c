import swagger from '@fastify/swagger';
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ErrorCodes } from '../http/error-envelope.js';
import { validationError } from '../http/validation.js';

export type { ZodTypeProvider };

/** SPEC §4 error envelope; the shape of `envelope()` in http/error-envelope.ts. */
export const errorEnvelopeSchema = z
  .object({
    error: z.object({
      code: z
        .string()
        .meta({ description: 'SYS_CONFIG_… / SYS_EVSTORE_…', examples: ['SYS_CONFIG_KEY_NOT_FOUND'] }),
      message: z.string(),
      request_id: z.string().meta({ description: 'The X-Request-Id of the request' }),
      details: z.array(z.object({ field: z.string(), message: z.string() })),
    }),
  })
  .meta({ id: 'ErrorEnvelope', description: 'SPEC §4: the body of every non-2xx answer under /api/' });

const errorDescriptions = {
  400: 'Invalid input: malformed JSON, wrong types or values out of range; `details` name the fields',
  401: 'Missing, invalid or expired credentials',
  403: 'The caller lacks the required role, or the target is outside its scopes (SPEC §8)',
  404: 'Not found',
  409: 'Conflict with the current state (version check)',
  413: 'Request body over the size limit',
  500: 'Internal error (no internals in the body)',
  503: 'Database unreachable, or the service is shutting down',
} as const;
export type ErrorStatus = keyof typeof errorDescriptions;

/** Responses a route can answer with the error envelope, each with its meaning. */
export function errorResponses(
  statuses: readonly ErrorStatus[],
  notes: Partial<Record<ErrorStatus, string>> = {},
) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: notes[status] ?? errorDescriptions[status],
        content: { 'application/json': { schema: errorEnvelopeSchema } },
      },
    ]),
  );
}

/** Every route behind authentication can answer these besides its own. */
export const AUTHENTICATED_ERRORS = [400, 401, 500, 503] as const satisfies readonly ErrorStatus[];
/** …and these when it demands a role. */
export const ROLE_ERRORS = [...AUTHENTICATED_ERRORS, 403] as const satisfies readonly ErrorStatus[];
/** The OpenAPI security requirement of an authenticated route: a Bearer JWT or an API key. */
export const bearerSecurity: Record<string, string[]>[] = [{ bearerAuth: [] }, { apiKeyAuth: [] }];

export interface OpenApiOptions {
  title: string;
  version: string;
  description: string;
  codes: ErrorCodes;
}

/** What a failing request part is called when the issue has no path of its own. */
const partNames: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'headers',
};

/**
 * Route schemas are zod: Fastify validates each request part with them (failures are the
 * service's VALIDATION error with field details, as `parseInput` gives), and @fastify/swagger
 * turns the very same schemas into the OpenAPI 3.1 document served at `GET /openapi.json`
 * (public). Routes without tags (the Connect RPC routes) are not REST and stay out of it.
 * Must be registered before any route.
 */
export async function registerOpenApi(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  const validatorCompiler: FastifySchemaCompiler<z.ZodType> =
    ({ schema, httpPart }) =>
    (data) => {
      const result = schema.safeParse(data);
      return result.success
        ? { value: result.data }
        : { error: validationError(result.error, options.codes, partNames[httpPart ?? 'body']) };
    };
  app.setValidatorCompiler(validatorCompiler);
  // Responses are documented, not re-validated on the hot path: plain JSON as without a schema.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.title, version: options.version, description: options.description },
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          // `Authorization: ApiKey <key>` (SPEC §8): OpenAPI has no custom http scheme, so the header.
          apiKeyAuth: {
            type: 'apiKey',
            in: 'header',
            name: 'Authorization',
            description: 'The value `ApiKey <key>`, with a key from POST /api/v1/apikeys',
          },
        },
      },
    },
    hideUntagged: true,
    // zod's global registry: `.meta()` (descriptions, `id` for components) lands there. A process
    // runs one service, so the components are that service's.
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  app.withTypeProvider<ZodTypeProvider>().get(
    '/openapi.json',
    {
      schema: {
        tags: ['discovery'],
        operationId: 'getOpenApiDocument',
        summary: 'This document (OpenAPI 3.1)',
        response: { 200: z.looseObject({ openapi: z.string() }) },
      },
    },
    async () => app.swagger() as { openapi: string },
  );
}

/** `/healthz`, `/readyz` and `/metrics` (SPEC §7), public. */
export const operationsRouteSchemas = {
  healthz: {
    tags: ['operations'],
    operationId: 'getHealth',
    summary: 'Liveness: the process answers',
    response: { 200: z.object({ status: z.literal('ok') }), ...errorResponses([500]) },
  },
  readyz: {
    tags: ['operations'],
    operationId: 'getReadiness',
    summary: 'Readiness: database (and Kafka when enabled) usable, not shutting down',
    response: {
      200: z.object({ status: z.literal('ready'), checks: z.record(z.string(), z.string()) }),
      503: z
        .object({ status: z.literal('not ready'), checks: z.record(z.string(), z.string()) })
        .meta({ description: 'A check failed (`checks` says which) or shutdown is under way' }),
      ...errorResponses([500]),
    },
  },
  metrics: {
    tags: ['operations'],
    operationId: 'getMetrics',
    summary: 'Prometheus text exposition',
    response: {
      200: {
        description: 'Prometheus text format 0.0.4',
        content: { 'text/plain': { schema: z.string() } },
      },
      ...errorResponses([500]),
    },
  },
};
