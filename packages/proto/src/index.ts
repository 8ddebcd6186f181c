// Convenience entry point over the buf-generated modules in ./gen (never edit those by hand).
// Each proto package is exposed as a namespace because names repeat across packages
// (e.g. EventMetadata exists in both common.v1 and eventstore.v1).

// Upstream gRPC protocols the platform serves on every gRPC port (health checking, server reflection).
export * as grpcHealthV1 from './gen/grpc/health/v1/health_pb.js';
export * as grpcReflectionV1 from './gen/grpc/reflection/v1/reflection_pb.js';
export * as grpcReflectionV1alpha from './gen/grpc/reflection/v1alpha/reflection_pb.js';
export * as eventConfigV1 from './gen/k1s0/event/system/config/v1/config_events_pb.js';
export { ConfigChangedEventSchema } from './gen/k1s0/event/system/config/v1/config_events_pb.js';
export * as commonEventV1 from './gen/k1s0/system/common/v1/event_metadata_pb.js';
export * as commonV1 from './gen/k1s0/system/common/v1/types_pb.js';
export * as configV1 from './gen/k1s0/system/config/v1/config_pb.js';
export { ConfigService } from './gen/k1s0/system/config/v1/config_pb.js';
export * as eventStoreV1 from './gen/k1s0/system/eventstore/v1/event_store_pb.js';
export { EventStoreService } from './gen/k1s0/system/eventstore/v1/event_store_pb.js';
