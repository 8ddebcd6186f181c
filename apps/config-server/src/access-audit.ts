import type { AuditTrail, Principal } from '@k1s0/platform';
import { revealsSecrets } from './roles.js';

/** Who called which operation, as the audit trail names it (never the credential). */
export interface CallSite {
  principal: Principal;
  /** `GET /api/v1/config/:namespace/:key` or `/k1s0.system.config.v1.ConfigService/GetConfig`: the
   * same form as the CallerGate's access.denied records, so one filter finds both. */
  operation: string;
  protocol: 'rest' | 'grpc' | 'websocket';
}

/** What a read hands back, as far as secret auditing cares. */
export interface ReadItem {
  readonly namespace: string;
  readonly key: string;
  readonly secret: boolean;
}

/**
 * `secret.read` (SPEC §8): a record when a caller receives a secret value in plaintext. Through
 * `AuditTrail.enqueue`: batched off the request path, identical records in one batch folded into
 * one row with a count — a read never waits for an INSERT. (Refusals past the CallerGate —
 * use-case scopes, the WatchConfig role rule — are recorded by the platform where errors are
 * translated for REST and gRPC: `onRefused` of the service runtime.)
 */
export class AccessAudit {
  constructor(private readonly trail: AuditTrail | undefined) {}

  /** One `secret.read` per secret item the caller receives unredacted (below sys_operator: none). */
  secretsRead(site: CallSite, useCase: string, items: Iterable<ReadItem>): void {
    if (this.trail === undefined || !revealsSecrets(site.principal)) return;
    for (const item of items) {
      if (!item.secret) continue;
      this.trail.enqueue({
        action: 'secret.read',
        actor: site.principal.actor,
        target: `${item.namespace}/${item.key}`,
        outcome: 'success',
        details: { operation: useCase, protocol: site.protocol },
      });
    }
  }
}
