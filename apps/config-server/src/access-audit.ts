import { type AppError, type AuditTrail, isAppError, type Principal } from '@k1s0/platform';
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
 * The audit records of config reads and refusals that happen after the CallerGate admitted the
 * caller (SPEC §8): `secret.read` when a caller receives a secret value in plaintext, and
 * `access.denied` when a use case (scopes, clearing the secret flag) or the WatchConfig role rule
 * refuses. Everything goes through `AuditTrail.enqueue`: batched off the request path, identical
 * records in one batch folded into one row with a count — a read never waits for an INSERT.
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

  /** `access.denied` for a refusal raised past the CallerGate; other errors are not audited. */
  refused(site: CallSite, useCase: string, error: unknown): void {
    if (this.trail === undefined || !isAppError(error) || error.kind !== 'permission_denied') return;
    this.trail.enqueue({
      action: 'access.denied',
      actor: site.principal.actor,
      target: site.operation,
      outcome: 'denied',
      details: deniedDetails(error, useCase, site),
    });
  }
}

function deniedDetails(error: AppError, useCase: string, site: CallSite): Record<string, unknown> {
  return {
    reason: error.message,
    status: 'permission_denied',
    protocol: site.protocol,
    use_case: useCase,
    ...(site.principal.scopes === undefined ? {} : { scopes: site.principal.scopes }),
  };
}
