import { configErrors } from '../errors.js';
import type { ConfigEntry } from '../model/config-entry.js';
import { entryFor } from '../model/secret.js';
import type { ConfigCache } from '../ports/config-cache.js';
import type { ConfigRepository } from '../ports/config-repository.js';
import { type CallerScopes, inScope } from '../rules/scope.js';
import { checkServiceName, serviceSegmentsFor } from '../rules/service-name.js';
import { Violations } from '../rules/validation.js';

export interface GetServiceConfigDeps {
  readonly repository: ConfigRepository;
  readonly cache: ConfigCache;
  /** The server's APP_ENV; a request naming another environment is refused. */
  readonly appEnv: string;
}

export interface GetServiceConfigInput extends CallerScopes {
  /** e.g. `auth-server`: matches namespaces `*.auth-server.*` and `*.auth.*`. */
  readonly serviceName: string;
  /** gRPC `environment`; empty or absent = don't check. */
  readonly environment?: string | undefined;
  /**
   * The caller may read secret values (SPEC §8: sys_operator and above); otherwise they are
   * REDACTED. Absent = false, so a caller that forgets to decide leaks nothing.
   */
  readonly revealSecrets?: boolean | undefined;
}

export interface ServiceConfig {
  readonly serviceName: string;
  /** Sorted by namespace, then key. */
  readonly entries: readonly ConfigEntry[];
}

/**
 * Every entry a service needs, in one call. A scoped caller gets only the entries of namespaces in
 * its scopes, silently (SPEC §8); SERVICE_NOT_FOUND when none is left, so an answer never tells
 * whether namespaces outside the scopes hold anything.
 */
export class GetServiceConfig {
  constructor(private readonly deps: GetServiceConfigDeps) {}

  async execute(input: GetServiceConfigInput): Promise<ServiceConfig> {
    const { repository, cache, appEnv } = this.deps;
    const violations = new Violations();
    checkServiceName(violations, input.serviceName);
    checkEnvironment(violations, input.environment, appEnv);
    violations.throwIfAny();

    let entries = cache.getServiceEntries(input.serviceName);
    if (entries === undefined) {
      const generation = cache.generation();
      entries = await repository.findByService(serviceSegmentsFor(input.serviceName));
      if (entries.length > 0 && cache.generation() === generation) {
        cache.setServiceEntries(input.serviceName, entries);
      }
    }
    // The cache holds the whole service; scopes narrow each caller's view of it.
    const { scopes } = input;
    const visible = scopes === undefined ? entries : entries.filter((e) => inScope(scopes, e.namespace));
    if (visible.length === 0) throw configErrors.serviceNotFound();
    const reveal = input.revealSecrets ?? false;
    return { serviceName: input.serviceName, entries: visible.map((entry) => entryFor(entry, reveal)) };
  }
}

/** This server holds one environment's config only; asking it for another is a client error. */
function checkEnvironment(violations: Violations, environment: string | undefined, appEnv: string): void {
  if (environment === undefined || environment === '' || environment === appEnv) return;
  violations.add(
    'environment',
    `environment はサーバーの環境（${appEnv}）と一致させてください（指定値: ${environment}）`,
  );
}
