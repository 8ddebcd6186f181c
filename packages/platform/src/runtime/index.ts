export * from './boot.js';
export * from './repo-root.js';
