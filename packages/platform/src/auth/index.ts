export * from './bearer.js';
export * from './connect-auth.js';
export * from './dev-token.js';
export * from './fastify-auth.js';
export * from './principal.js';
export * from './roles.js';
export * from './token-verifier.js';
