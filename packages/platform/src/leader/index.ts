export * from './leader-election.js';
export * from './leader-lease.js';
