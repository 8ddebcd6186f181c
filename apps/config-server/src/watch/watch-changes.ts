import type { ConfigChange, ConfigUseCases } from '@k1s0/config-domain';
import { type Principal, requireRole } from '@k1s0/platform';
import { revealsSecrets, watchConfigRole } from '../roles.js';

export interface WatchRequest {
  /** Exact namespaces; empty = all. */
  namespaces: readonly string[];
  /** Last revision the client has seen (replay, then live); undefined = live only. */
  fromRevision: bigint | undefined;
}

/**
 * The one way a protocol handler (gRPC WatchConfig, the WebSocket feed) opens a change stream for
 * a caller: the role rule of SPEC §3, then the WatchConfig use case on the shared change feed. Both
 * protocols go through here, so what the use case decides per caller (scopes, redaction) reaches
 * both; the handlers only translate the changes into their wire format.
 */
export function watchChanges(
  useCases: ConfigUseCases,
  principal: Principal,
  request: WatchRequest,
  signal: AbortSignal,
): AsyncGenerator<ConfigChange, void, undefined> {
  requireRole(principal, watchConfigRole(request));
  return useCases.watchConfig.execute({
    namespaces: request.namespaces,
    fromRevision: request.fromRevision,
    // The use case leaves out what is outside the caller's scopes (SPEC §8).
    scopes: principal.scopes,
    // Below sys_operator a secret's values arrive as "[redacted]" (SPEC §8).
    revealSecrets: revealsSecrets(principal),
    signal,
  });
}
