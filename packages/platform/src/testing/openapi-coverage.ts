import { Validator } from '@seriousme/openapi-schema-validator';
import type { FastifyInstance } from 'fastify';

export interface RouteKey {
  method: string;
  /** OpenAPI form: `/api/v1/config/{namespace}`. */
  path: string;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'];

/**
 * Every route the Fastify instance really serves, read from `printRoutes` (Fastify's public
 * route listing). HEAD routes Fastify derives from each GET are left out (they mirror the GET),
 * and so are Connect RPC routes (`/package.Service/Method`): those are gRPC/Connect, described by
 * the protos and server reflection, not by OpenAPI.
 */
export function servedRestRoutes(app: FastifyInstance): RouteKey[] {
  const routes: RouteKey[] = [];
  const prefixes: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^(.*?)(?:├── |└── )(\S+)(?: \(([^)]*)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const path = (prefixes[depth - 1] ?? '') + match[2]!;
    prefixes[depth] = path;
    prefixes.length = depth + 1;
    for (const method of (match[3] ?? '').split(', ').filter(Boolean)) {
      if (method === 'HEAD' || /^\/[\w.]+\.[A-Z]\w*\/\w+$/.test(path)) continue;
      routes.push({ method, path: path.replace(/:(\w+)/g, '{$1}') });
    }
  }
  return routes;
}

/** The operations an OpenAPI document describes. */
export function documentedRoutes(document: { paths?: Record<string, Record<string, unknown>> }): RouteKey[] {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((key) => HTTP_METHODS.includes(key))
      .map((method) => ({ method: method.toUpperCase(), path })),
  );
}

export const routeKeys = (routes: RouteKey[]) => routes.map((r) => `${r.method} ${r.path}`).sort();

/** Validates a document against the official OpenAPI 3.1 JSON schema; returns the errors. */
export async function openApiErrors(document: Record<string, unknown>): Promise<unknown> {
  const validator = new Validator();
  const result = await validator.validate(document);
  return result.valid ? undefined : result.errors;
}
