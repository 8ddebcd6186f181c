export * from './audit-logs-table.js';
export * from './audit-trail.js';
