export * from './grpc-discovery.js';
export * from './grpc-health.js';
export * from './grpc-reflection.js';
export * from './openapi.js';
