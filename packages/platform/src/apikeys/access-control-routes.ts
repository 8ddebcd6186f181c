import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AuditEntry, AuditTrail } from '../audit/audit-trail.js';
import { principalOf } from '../auth/fastify-auth.js';
import { ROLES, type RoleRequirement } from '../auth/roles.js';
import { bearerSecurity, errorResponses, ROLE_ERRORS, type ZodTypeProvider } from '../discovery/openapi.js';
import { scopePatternProblem } from '../scopes/index.js';
import type { ApiKeys, ApiKeyView } from './api-keys.js';

/** The REST-only operations of this module; each app's role table (src/roles.ts) names their role. */
export type AccessControlOperation = 'createApiKey' | 'listApiKeys' | 'revokeApiKey' | 'readAuditLog';
export type AccessControlRoles = Readonly<Record<AccessControlOperation, RoleRequirement>>;

const timestamp = z.iso.datetime().meta({ description: 'RFC 3339 UTC' });
const MAX_AUDIT_PAGE_SIZE = 100;
const DEFAULT_AUDIT_PAGE_SIZE = 20;

export const apiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    roles: z.array(z.string()),
    scopes: z.array(z.string()).nullable().meta({ description: 'null = unscoped' }),
    expires_at: timestamp.nullable(),
    created_at: timestamp,
    last_used_at: timestamp.nullable().meta({
      description: 'Written in batches (at most every few seconds per instance), not on every request',
    }),
  })
  .meta({ id: 'ApiKey', description: 'An API key, without its secret (SPEC §8)' });

const createdApiKeySchema = apiKeySchema
  .extend({
    key: z
      .string()
      .meta({ description: 'The secret: present it as `Authorization: ApiKey <key>`. Shown only here.' }),
  })
  .meta({ id: 'CreatedApiKey' });

const createBodySchema = z.object({
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/,
      'name: 1–100 characters of [A-Za-z0-9_.-], starting alphanumeric',
    ),
  roles: z.array(z.enum(ROLES)).max(ROLES.length * 4),
  scopes: z
    .array(
      // The scope matcher's own rule (scopes/), so what is granted is what inScope understands.
      z
        .string()
        .regex(/^[A-Za-z0-9_.:@*-]{1,255}$/, 'a namespace or stream-id pattern')
        .superRefine((pattern, ctx) => {
          const problem = scopePatternProblem(pattern);
          if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
        }),
    )
    .max(100)
    .optional()
    .meta({ description: 'Namespace (config) / stream-id (events) patterns; absent = unscoped' }),
  expires_at: z.iso.datetime({ offset: true }).optional().meta({ description: 'RFC 3339, in the future' }),
});

const keyParamsSchema = z.object({ id: z.uuid() });

function queryInt(field: string, min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,10}$/, `${field} must be an integer`)
    .transform(Number)
    .pipe(z.int().min(min).max(max))
    .optional();
}

const auditQuerySchema = z.object({
  page: queryInt('page', 1, 1_000_000),
  page_size: queryInt('page_size', 1, MAX_AUDIT_PAGE_SIZE),
  action: z.string().min(1).max(50).optional(),
  actor: z.string().min(1).max(255).optional(),
  from: z.iso.datetime({ offset: true }).optional().meta({ description: 'Entries at or after (RFC 3339)' }),
  to: z.iso.datetime({ offset: true }).optional().meta({ description: 'Entries at or before (RFC 3339)' }),
});

const auditEntrySchema = z
  .object({
    id: z.int(),
    action: z
      .string()
      .meta({ examples: ['apikey.created', 'apikey.revoked', 'access.denied', 'secret.read'] }),
    actor: z
      .string()
      .meta({ description: 'Who acted; `anonymous` when a refused caller proved no identity' }),
    target: z.string().nullable(),
    outcome: z.enum(['success', 'denied', 'failure']),
    details: z.record(z.string(), z.unknown()),
    at: timestamp,
  })
  .meta({ id: 'AuditEntry' });

const auditResponseSchema = z.object({
  entries: z.array(auditEntrySchema),
  pagination: z
    .object({ total_count: z.int(), page: z.int(), page_size: z.int(), has_next: z.boolean() })
    .meta({ id: 'AuditPagination', description: 'Same shape as the other paginated lists' }),
});

function apiKeyJson(key: ApiKeyView): z.input<typeof apiKeySchema> {
  return {
    id: key.id,
    name: key.name,
    roles: key.roles,
    scopes: key.scopes,
    expires_at: key.expiresAt?.toISOString() ?? null,
    created_at: key.createdAt.toISOString(),
    last_used_at: key.lastUsedAt?.toISOString() ?? null,
  };
}

function auditEntryJson(entry: AuditEntry): z.input<typeof auditEntrySchema> {
  return {
    id: entry.id,
    action: entry.action,
    actor: entry.actor,
    target: entry.target,
    outcome: entry.outcome as 'success' | 'denied' | 'failure',
    details: entry.details,
    at: entry.at.toISOString(),
  };
}

export interface AccessControlRoutesOptions {
  apiKeys: ApiKeys;
  audit: AuditTrail;
  roles: AccessControlRoles;
}

const doc = (tag: string, operationId: string, summary: string) => ({
  tags: [tag],
  operationId,
  summary,
  security: bearerSecurity,
});

/** `/api/v1/apikeys` and `/api/v1/audit` (SPEC §8), the same on every service. */
export async function accessControlRoutes(
  app: FastifyInstance,
  { apiKeys, audit, roles }: AccessControlRoutesOptions,
): Promise<void> {
  const api = app.withTypeProvider<ZodTypeProvider>();

  api.post(
    '/api/v1/apikeys',
    {
      onRequest: app.requireAuth(roles.createApiKey),
      schema: {
        ...doc('apikeys', 'createApiKey', 'Create an API key; its secret is returned only here'),
        body: createBodySchema,
        response: {
          201: createdApiKeySchema,
          ...errorResponses([...ROLE_ERRORS, 409], { 409: 'An API key of that name exists (or existed)' }),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const created = await apiKeys.create(
        {
          name: body.name,
          roles: body.roles,
          scopes: body.scopes,
          expiresAt: body.expires_at === undefined ? undefined : new Date(body.expires_at),
        },
        principalOf(request).actor,
      );
      return reply.code(201).send({ ...apiKeyJson(created), key: created.key });
    },
  );

  api.get(
    '/api/v1/apikeys',
    {
      onRequest: app.requireAuth(roles.listApiKeys),
      schema: {
        ...doc('apikeys', 'listApiKeys', 'The API keys not revoked (no secrets)'),
        response: { 200: z.object({ api_keys: z.array(apiKeySchema) }), ...errorResponses(ROLE_ERRORS) },
      },
    },
    async () => ({ api_keys: (await apiKeys.list()).map(apiKeyJson) }),
  );

  api.delete(
    '/api/v1/apikeys/:id',
    {
      onRequest: app.requireAuth(roles.revokeApiKey),
      schema: {
        ...doc('apikeys', 'revokeApiKey', 'Revoke an API key, on every instance at once'),
        params: keyParamsSchema,
        response: {
          204: z.undefined().meta({ description: 'Revoked' }),
          ...errorResponses([...ROLE_ERRORS, 404]),
        },
      },
    },
    async (request, reply) => {
      await apiKeys.revoke(request.params.id, principalOf(request).actor);
      return reply.code(204).send();
    },
  );

  api.get(
    '/api/v1/audit',
    {
      onRequest: app.requireAuth(roles.readAuditLog),
      schema: {
        ...doc('audit', 'listAuditEntries', 'The audit trail, newest first, filtered and paginated'),
        querystring: auditQuerySchema,
        response: { 200: auditResponseSchema, ...errorResponses(ROLE_ERRORS) },
      },
    },
    async (request) => {
      const query = request.query;
      const page = query.page ?? 1;
      const pageSize = query.page_size ?? DEFAULT_AUDIT_PAGE_SIZE;
      const { entries, totalCount } = await audit.list({
        page,
        pageSize,
        action: query.action,
        actor: query.actor,
        from: query.from === undefined ? undefined : new Date(query.from),
        to: query.to === undefined ? undefined : new Date(query.to),
      });
      return {
        entries: entries.map(auditEntryJson),
        pagination: {
          total_count: totalCount,
          page,
          page_size: pageSize,
          has_next: page * pageSize < totalCount,
        },
      };
    },
  );
}
