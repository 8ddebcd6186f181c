export * from './grpc-discovery-client.js';
export * from './jwks-server.js';
export * from './kafka-consumer.js';
export * from './kafka-mock.js';
export * from './kafka-service-harness.js';
export * from './openapi-coverage.js';
export * from './postgres.js';
export * from './service-process.js';
