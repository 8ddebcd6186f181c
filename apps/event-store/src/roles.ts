import { type AccessControlOperation, type RoleTable, rolesByMethodFrom } from '@k1s0/platform';
import { EventStoreService } from '@k1s0/proto';

/**
 * SPEC §3: the role each event-store operation needs — the one table the REST routes and the
 * RPCs (by method name) both read.
 */
export const eventStoreRoles: RoleTable<typeof EventStoreService, AccessControlOperation> = {
  readEvents: 'sys_auditor',
  readEventBySequence: 'sys_auditor',
  readAll: 'sys_auditor',
  subscribeAll: 'sys_auditor',
  getLatestSnapshot: 'sys_auditor',
  appendEvents: 'sys_operator',
  createSnapshot: 'sys_operator',
  deleteStream: 'sys_admin',
  // API keys and the audit trail (SPEC §8, REST only).
  createApiKey: 'sys_admin',
  listApiKeys: 'sys_admin',
  revokeApiKey: 'sys_admin',
  readAuditLog: 'sys_admin',
};

/** The RPC guard's view of the table: method → role (same keys, so REST and RPC cannot drift). */
export const eventStoreRpcRole = rolesByMethodFrom(EventStoreService, eventStoreRoles);
