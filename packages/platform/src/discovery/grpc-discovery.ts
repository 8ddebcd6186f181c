import type { DescService } from '@bufbuild/protobuf';
import type { ConnectRouter } from '@connectrpc/connect';
import { grpcHealthV1, grpcReflectionV1, grpcReflectionV1alpha } from '@k1s0/proto';
import type { ReadinessCheck } from '../http/readiness.js';
import { registerHealth } from './grpc-health.js';
import { ReflectionIndex, registerReflection } from './grpc-reflection.js';

/** Services every gRPC listener adds itself; public (no token), like `/healthz`. */
const DISCOVERY_SERVICES = new Set([
  grpcHealthV1.Health.typeName,
  grpcReflectionV1.ServerReflection.typeName,
  grpcReflectionV1alpha.ServerReflection.typeName,
]);

export function isDiscoveryService(serviceTypeName: string): boolean {
  return DISCOVERY_SERVICES.has(serviceTypeName);
}

export interface GrpcDiscoveryOptions {
  readiness: Record<string, ReadinessCheck>;
  shutdownSignal: AbortSignal;
}

/**
 * Adds `grpc.health.v1.Health` and server reflection to a router after the app's own services,
 * describing whatever the router serves by then (the app's services and these three).
 */
export function registerGrpcDiscovery(router: ConnectRouter, options: GrpcDiscoveryOptions): void {
  let index: ReflectionIndex | undefined;
  const reflection = () => {
    if (index === undefined) {
      const services = new Map<string, DescService>();
      for (const handler of router.handlers) services.set(handler.service.typeName, handler.service);
      index = new ReflectionIndex([...services.values()]);
    }
    return index;
  };
  registerHealth(router, {
    ...options,
    services: () => reflection().serviceNames,
  });
  registerReflection(router, reflection);
}
