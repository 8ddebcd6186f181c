import {
  type AccessControlOperation,
  hasRole,
  type Principal,
  type RoleRequirement,
  type RoleTable,
  rolesByMethodFrom,
} from '@k1s0/platform';
import { ConfigService } from '@k1s0/proto';

/**
 * SPEC §3: the role each config operation needs — the one table the REST routes and the RPCs
 * (by method name) both read.
 */
export const configRoles: RoleTable<
  typeof ConfigService,
  | 'getConfigHistory'
  | 'rollbackConfig'
  | 'watchAllOrReplay'
  | 'readSecretValues'
  | 'clearSecretFlag'
  | AccessControlOperation
> = {
  getServiceConfig: 'authenticated',
  getConfig: 'sys_auditor',
  listConfigs: 'sys_auditor',
  getConfigHistory: 'sys_auditor',
  updateConfig: 'sys_operator',
  rollbackConfig: 'sys_operator',
  deleteConfig: 'sys_admin',
  // WatchConfig naming its namespaces (live changes); watchConfigRole decides per request.
  watchConfig: 'authenticated',
  // WatchConfig over all namespaces (empty filter) or replaying history from from_revision.
  watchAllOrReplay: 'sys_auditor',
  // API keys and the audit trail (SPEC §8, REST only).
  createApiKey: 'sys_admin',
  listApiKeys: 'sys_admin',
  revokeApiKey: 'sys_admin',
  readAuditLog: 'sys_admin',
  // SPEC §8: who reads secret values in plaintext (everyone else gets "[redacted]") on every read,
  // list, history, bulk fetch and watch; and who may turn a secret entry back into a plain one.
  readSecretValues: 'sys_operator',
  clearSecretFlag: 'sys_admin',
};

/** What the read use cases take as `revealSecrets` for this caller. */
export const revealsSecrets = (principal: Principal) => hasRole(principal, configRoles.readSecretValues);

/**
 * What every read use case takes from its caller: the scopes it is limited to (SPEC §8) and
 * whether secret values reach it in plaintext.
 */
export const readerView = (principal: Principal) => ({
  scopes: principal.scopes,
  revealSecrets: revealsSecrets(principal),
});

/** What UpdateConfig takes as `mayClearSecret` for this caller. */
export const mayClearSecret = (principal: Principal) => hasRole(principal, configRoles.clearSecretFlag);

/** The RPC guard's view of the table: method → role (same keys, so REST and RPC cannot drift). */
export const configRpcRole = rolesByMethodFrom(ConfigService, configRoles);

/**
 * SPEC §3: a watch naming its namespaces sees live changes of what the caller asked for by name, so
 * any valid token may open it (services watch their own config); one over all namespaces, or one
 * replaying past changes (old and new values) from `from_revision`, is an audit read.
 */
export function watchConfigRole(request: {
  namespaces?: readonly string[] | undefined;
  fromRevision?: bigint | undefined;
}): RoleRequirement {
  const allNamespaces = (request.namespaces ?? []).length === 0;
  return allNamespaces || request.fromRevision !== undefined
    ? configRoles.watchAllOrReplay
    : configRoles.watchConfig;
}
