/**
 * infra/kong/kong.yaml: valid declarative-config shape, every REST route the services register is
 * routed to the right upstream, every gRPC service reaches the right gRPC port over grpc/grpcs, and
 * the rate limit of design 000 (3000/min, policy redis) is on every service.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface KongRoute {
  name: string;
  protocols?: string[];
  paths: string[];
  strip_path?: boolean;
}
interface KongPlugin {
  name: string;
  config: Record<string, unknown>;
}
interface KongService {
  name: string;
  url: string;
  routes: KongRoute[];
  plugins?: KongPlugin[];
}
interface KongConfig {
  _format_version: string;
  services: KongService[];
  plugins?: KongPlugin[];
}

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const kong = parse(readFileSync(repo('infra/kong/kong.yaml'), 'utf8')) as KongConfig;

/**
 * Path literals the app passes to Fastify (`'/api/v1/…'`, `'/ws/v1/…'`) in its REST and WebSocket
 * route modules. The platform's admin routes (/api/v1/apikeys, /api/v1/audit) are deliberately
 * not here: they stay cluster-internal (see kong.yaml).
 */
function restPaths(app: string): string[] {
  return ['rest', 'ws']
    .map((folder) => repo(`apps/${app}/src/${folder}`))
    .filter((dir) => existsSync(dir))
    .flatMap((dir) =>
      readdirSync(dir)
        .filter((name) => name.endsWith('.ts'))
        .flatMap((name) =>
          [...readFileSync(join(dir, name), 'utf8').matchAll(/'(\/(?:api|ws)\/v1\/[^']*)'/g)].map(
            (m) => m[1]!,
          ),
        ),
    );
}

/** Fully qualified gRPC service names of a generated proto module. */
function grpcServices(protoFile: string): string[] {
  const text = readFileSync(repo(`packages/proto/src/gen/${protoFile}`), 'utf8');
  return [...text.matchAll(/@generated from service ([\w.]+)/g)].map((m) => m[1]!);
}

function grpcPort(app: string): number {
  const config = parse(readFileSync(repo(`apps/${app}/config/config.yaml`), 'utf8')) as {
    grpc: { port: number };
  };
  return config.grpc.port;
}

const APPS = [
  { app: 'config-server', proto: 'k1s0/system/config/v1/config_pb.ts' },
  { app: 'event-store', proto: 'k1s0/system/eventstore/v1/event_store_pb.ts' },
] as const;

function upstreamOf(service: KongService): { scheme: string; host: string; port: number } {
  const url = new URL(service.url);
  return { scheme: url.protocol.replace(':', ''), host: url.hostname, port: Number(url.port) };
}

describe('Kong declarative config', () => {
  it('is format 3.0 with uniquely named services and routes', () => {
    expect(kong._format_version).toBe('3.0');
    const names = kong.services.flatMap((s) => [s.name, ...s.routes.map((r) => r.name)]);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(APPS)('routes every REST path of $app to its HTTP upstream without stripping', ({ app }) => {
    const paths = restPaths(app);
    expect(paths.length).toBeGreaterThan(3);
    const http = kong.services.filter(
      (s) => upstreamOf(s).scheme === 'http' && upstreamOf(s).host.startsWith(`${app}.`),
    );
    expect(http).toHaveLength(1);
    const routes = http[0]!.routes;
    for (const route of routes) {
      expect(route.protocols).toEqual(['http', 'https']);
      expect(route.strip_path).toBe(false);
    }
    const prefixes = routes.flatMap((r) => r.paths);
    const unrouted = paths.filter(
      (path) => !prefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`)),
    );
    expect(unrouted).toEqual([]);
  });

  it.each(APPS)('routes the gRPC service of $app over grpc/grpcs to its gRPC port', ({ app, proto }) => {
    const names = grpcServices(proto);
    expect(names.length).toBeGreaterThan(0);
    const grpc = kong.services.filter(
      (s) => upstreamOf(s).scheme === 'grpc' && upstreamOf(s).host.startsWith(`${app}.`),
    );
    expect(grpc).toHaveLength(1);
    expect(upstreamOf(grpc[0]!).port).toBe(grpcPort(app));
    for (const route of grpc[0]!.routes) expect(route.protocols).toEqual(['grpc', 'grpcs']);
    const prefixes = grpc[0]!.routes.flatMap((r) => r.paths);
    expect(names.map((name) => `/${name}/`).filter((path) => !prefixes.includes(path))).toEqual([]);
  });

  it('limits every service to 3000 requests a minute with the redis policy (design 000)', () => {
    for (const service of kong.services) {
      const limit = service.plugins?.find((p) => p.name === 'rate-limiting');
      expect({ service: service.name, config: limit?.config }).toMatchObject({
        service: service.name,
        config: { minute: 3000, policy: 'redis', redis: { host: expect.any(String), port: 6379 } },
      });
    }
  });
});
