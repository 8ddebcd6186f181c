import { AppError } from '../errors/index.js';
import type { Principal } from './principal.js';

/** The platform's system roles (SPEC §3), most powerful first. */
export const ROLES = ['sys_admin', 'sys_operator', 'sys_auditor'] as const;
export type Role = (typeof ROLES)[number];

/** What a route or RPC demands: a role, or merely a valid token. */
export type RoleRequirement = Role | 'authenticated';

// Each role is granted by itself and every role above it: sys_admin ⊃ sys_operator ⊃ sys_auditor.
const grantedBy: Record<Role, readonly Role[]> = {
  sys_admin: ['sys_admin'],
  sys_operator: ['sys_admin', 'sys_operator'],
  sys_auditor: ['sys_admin', 'sys_operator', 'sys_auditor'],
};

export function hasRole(principal: Principal, required: RoleRequirement): boolean {
  if (required === 'authenticated') return true;
  return grantedBy[required].some((role) => principal.roles.has(role));
}

/** Throws `permission_denied` (403 / PERMISSION_DENIED) unless the principal holds `required`. */
export function requireRole(principal: Principal, required: RoleRequirement): void {
  if (!hasRole(principal, required)) {
    throw new AppError('permission_denied', {
      code: 'PERMISSION_DENIED',
      message: `role ${required} required`,
    });
  }
}
