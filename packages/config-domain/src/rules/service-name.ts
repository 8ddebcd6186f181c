import type { Violations } from './validation.js';

const SERVICE_NAME = /^[a-z0-9_-]{1,255}$/;
const SERVER_SUFFIX = '-server';

export function checkServiceName(violations: Violations, serviceName: unknown, field = 'service_name'): void {
  if (typeof serviceName !== 'string' || serviceName === '') {
    violations.add(field, 'service_name フィールドは必須です');
  } else if (!SERVICE_NAME.test(serviceName)) {
    violations.add(field, 'service_name は 1〜255 文字の [a-z0-9_-] で指定してください');
  }
}

/**
 * Namespace service segments a service name stands for: itself, and itself without a trailing
 * `-server` (`auth-server` → `auth-server`, `auth`), as deployments name servers after services.
 */
export function serviceSegmentsFor(serviceName: string): string[] {
  const segments = [serviceName];
  if (serviceName.endsWith(SERVER_SUFFIX) && serviceName.length > SERVER_SUFFIX.length) {
    segments.push(serviceName.slice(0, -SERVER_SUFFIX.length));
  }
  return segments;
}

/** The inverse: service names whose bulk result includes namespaces with this segment. */
export function serviceNamesFor(segment: string): string[] {
  return [segment, segment + SERVER_SUFFIX];
}
