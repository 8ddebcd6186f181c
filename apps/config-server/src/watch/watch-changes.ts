import type { ConfigChange } from '@k1s0/config-domain';
import { hookedStream, requireRole } from '@k1s0/platform';
import type { AccessAudit, CallSite } from '../access-audit.js';
import { revealsSecrets, watchConfigRole } from '../roles.js';
import type { ConfigServerUseCases } from '../use-cases.js';

export interface WatchRequest {
  /** Exact namespaces; empty = all. */
  namespaces: readonly string[];
  /** Last revision the client has seen (replay, then live); undefined = live only. */
  fromRevision: bigint | undefined;
}

const WATCH_USE_CASE = 'WatchConfig';

/**
 * The role rule of SPEC §3 for a watch (all namespaces or a replay need sys_auditor). The WebSocket
 * feed calls it before the upgrade, gRPC via watchChanges; the refusal (permission_denied of an
 * admitted caller) is recorded as access.denied where the platform translates errors.
 */
export function checkWatchRole(site: CallSite, request: WatchRequest): void {
  requireRole(site.principal, watchConfigRole(request));
}

/**
 * The one way a protocol handler (gRPC WatchConfig, the WebSocket feed) opens a change stream for
 * a caller: the role rule of SPEC §3, then the WatchConfig use case on the shared change feed. Both
 * protocols go through here, so what the use case decides per caller (scopes, redaction) and what
 * the audit trail records reach both; the handlers only translate the changes into their wire format.
 */
export function watchChanges(
  useCases: ConfigServerUseCases,
  audit: AccessAudit,
  site: CallSite,
  request: WatchRequest,
  signal: AbortSignal,
): AsyncIterable<ConfigChange> {
  checkWatchRole(site, request);
  const changes = useCases.watchConfig({
    namespaces: request.namespaces,
    fromRevision: request.fromRevision,
    // The use case leaves out what is outside the caller's scopes (SPEC §8).
    scopes: site.principal.scopes,
    // Below sys_operator a secret's values arrive as "[redacted]" (SPEC §8).
    revealSecrets: revealsSecrets(site.principal),
    signal,
  });
  return revealing(site.principal, changes, (change) => audit.secretsRead(site, WATCH_USE_CASE, [change]));
}

/**
 * `secret.read` on a stream: one record per secret key the stream first delivers in plaintext, not
 * one per event — a long-lived watch of a hot secret would otherwise write a row per change, while
 * "this stream (actor, protocol) saw this secret" is what an auditor asks. Callers below
 * sys_operator get "[redacted]" and leave no record.
 */
function revealing(
  principal: CallSite['principal'],
  changes: AsyncIterable<ConfigChange>,
  record: (change: ConfigChange) => void,
): AsyncIterable<ConfigChange> {
  if (!revealsSecrets(principal)) return changes;
  const seen = new Set<string>();
  return hookedStream(changes, {
    message: (change) => {
      if (change.secret) {
        const target = `${change.namespace}/${change.key}`;
        if (!seen.has(target)) {
          seen.add(target);
          record(change);
        }
      }
      return change;
    },
  });
}
