import { create } from '@bufbuild/protobuf';
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import type { ConfigChange, ConfigEntry } from '@k1s0/config-domain';
import {
  anySignal,
  encodesBinary,
  Gauge,
  hookedStream,
  lazyStream,
  messagePerObject,
  principalFromContext,
  type Registry,
  requestIdFor,
} from '@k1s0/platform';
import { type ConfigService, configV1 } from '@k1s0/proto';
import type { AccessAudit, CallSite, ReadItem } from '../access-audit.js';
import { mayClearSecret, readerView } from '../roles.js';
import type { UseCaseRunner } from '../use-case-runner.js';
import type { ConfigServerUseCases } from '../use-cases.js';
import { watchChanges } from '../watch/watch-changes.js';
import {
  changeEventMessage,
  entryMessage,
  flattenedConfigs,
  paginationMessage,
  parseJsonBytes,
  parseMetadataJson,
  unlessEmpty,
  unlessZero,
} from './messages.js';

export interface ConfigServiceOptions {
  useCases: ConfigServerUseCases;
  /** Aborted on shutdown: open WatchConfig streams end cleanly. */
  shutdownSignal: AbortSignal;
  /** The app's use-case runner (secret.read records). */
  run: UseCaseRunner;
  audit: AccessAudit;
  metrics?: { registry: Registry; prefix: string };
}

const requestIdOf = (ctx: HandlerContext) =>
  requestIdFor({ headers: { 'x-request-id': ctx.requestHeader.get('x-request-id') ?? undefined } });

/**
 * The feed hands the same change object to every open WatchConfig stream: its message is built
 * once, not once per stream, and for binary codecs encoded once too — the pre-encoded copy goes out
 * as those bytes on every stream (platform pre-encoded.ts).
 */
const watchMessageFor = messagePerObject(configV1.ConfigChangeEventSchema, changeEventMessage);

/**
 * A cached entry is one object until it changes (entries are values; the cache replaces them), and
 * GetConfig answers it over and over: its response is built and encoded once per entry (issue 13:
 * protobuf encoding and framing were an eighth of a cached GetConfig's CPU). A redacted copy is a
 * new object per call, so secrets below sys_operator are built each time.
 */
const getConfigResponseFor = messagePerObject(configV1.GetConfigResponseSchema, (entry: ConfigEntry) =>
  create(configV1.GetConfigResponseSchema, { entry: entryMessage(entry) }),
);

/** The caller and RPC as the audit trail names them (the CallerGate's form). */
const callSiteOf = (ctx: HandlerContext): CallSite => ({
  principal: principalFromContext(ctx),
  operation: `/${ctx.service.typeName}/${ctx.method.name}`,
  protocol: 'grpc',
});

/** Connect/gRPC ConfigService (design 001): thin translation onto the same use cases as REST. */
export function configServiceImpl(options: ConfigServiceOptions): ServiceImpl<typeof ConfigService> {
  const { useCases, shutdownSignal } = options;
  const openStreams = options.metrics
    ? new Gauge({
        name: `${options.metrics.prefix}_watch_streams_open`,
        help: 'WatchConfig streams currently open on this instance',
        registers: [options.metrics.registry],
      })
    : undefined;
  const run = <T>(
    ctx: HandlerContext,
    name: string,
    fn: () => Promise<T>,
    readItems?: (result: T) => Iterable<ReadItem>,
  ) => options.run({ name, ...callSiteOf(ctx) }, fn, readItems);

  return {
    async getConfig(req, ctx) {
      const entry = await run(
        ctx,
        'GetConfig',
        () =>
          useCases.getConfig({
            namespace: req.namespace,
            key: req.key,
            ...readerView(principalFromContext(ctx)),
          }),
        (entry) => [entry],
      );
      return getConfigResponseFor(entry, encodesBinary(ctx));
    },

    async listConfigs(req, ctx) {
      const result = await run(
        ctx,
        'ListConfigs',
        () =>
          useCases.listConfigs({
            namespace: req.namespace,
            page: unlessZero(req.pagination?.page ?? 0),
            pageSize: unlessZero(req.pagination?.pageSize ?? 0),
            search: unlessEmpty(req.search),
            ...readerView(principalFromContext(ctx)),
          }),
        (result) => result.entries,
      );
      return { entries: result.entries.map(entryMessage), pagination: paginationMessage(result.pagination) };
    },

    async updateConfig(req, ctx) {
      // `updated_by` in the request is ignored: the actor is the token's (SPEC §3).
      const principal = principalFromContext(ctx);
      const result = await run(ctx, 'UpdateConfig', async () =>
        useCases.updateConfig({
          namespace: req.namespace,
          key: req.key,
          value: parseJsonBytes(req.value),
          version: req.version,
          description: unlessEmpty(req.description),
          actor: principal.actor,
          requestId: requestIdOf(ctx),
          scopes: principal.scopes,
          secret: req.secret, // proto3 `optional`: undefined when unset = keep the flag
          mayClearSecret: mayClearSecret(principal),
          metadata: parseMetadataJson(req.metadataJson),
        }),
      );
      return { entry: entryMessage(result.entry) };
    },

    async deleteConfig(req, ctx) {
      const { actor, scopes } = principalFromContext(ctx);
      await run(ctx, 'DeleteConfig', () =>
        useCases.deleteConfig({
          namespace: req.namespace,
          key: req.key,
          actor,
          requestId: requestIdOf(ctx),
          scopes,
        }),
      );
      return { success: true };
    },

    async getServiceConfig(req, ctx) {
      const result = await run(
        ctx,
        'GetServiceConfig',
        () =>
          useCases.getServiceConfig({
            serviceName: req.serviceName,
            environment: req.environment,
            ...readerView(principalFromContext(ctx)),
          }),
        (result) => result.entries,
      );
      return { configs: flattenedConfigs(result.entries) };
    },

    watchConfig(req, ctx) {
      // Per message only the mapping to the wire: no generator layer per stream (issue 13).
      return lazyStream(() => {
        const stop = anySignal([ctx.signal, shutdownSignal]);
        let changes: AsyncIterable<ConfigChange>;
        try {
          // The interceptor admitted any valid token; what this watch reads may need more (SPEC
          // §3): watchChanges checks it, the same way for the WebSocket feed.
          changes = watchChanges(
            useCases,
            options.audit,
            callSiteOf(ctx),
            { namespaces: req.namespaces, fromRevision: req.fromRevision },
            stop.signal,
          );
        } catch (error) {
          stop.dispose();
          throw error;
        }
        openStreams?.inc();
        const binary = encodesBinary(ctx);
        return hookedStream(changes, {
          message: (change) => watchMessageFor(change, binary),
          finally: () => {
            openStreams?.dec();
            stop.dispose();
          },
        });
      });
    },
  };
}
