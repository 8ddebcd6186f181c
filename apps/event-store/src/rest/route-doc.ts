import { bearerSecurity } from '@k1s0/platform';

/** OpenAPI operation metadata shared by every REST route of the event store. */
export function routeDoc(operationId: string, summary: string) {
  return { tags: ['events'], operationId, summary, security: bearerSecurity };
}
