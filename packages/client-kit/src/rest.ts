import type { TokenGetter } from './auth.js';
import { errorFromStatus, toK1s0Error } from './errors.js';

export interface RestClient {
  /** JSON request; resolves with the parsed body (undefined for 204), throws K1s0Error otherwise. */
  request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T>;
}

/** Minimal JSON client for the services' REST API (`/api/v1/...`) with the bearer token. */
export function restClient(baseUrl: string, getToken: TokenGetter, timeoutMs = 30_000): RestClient {
  const root = baseUrl.replace(/\/+$/, '');
  async function once<T>(
    method: string,
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
    refresh: boolean,
  ) {
    const headers: Record<string, string> = { authorization: `Bearer ${await getToken(refresh)}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${root}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        // A half-dead connection must not hang a caller forever.
        signal: signal
          ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])
          : AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw toK1s0Error(error);
    }
    const text = await response.text();
    const parsed: unknown = text === '' ? undefined : JSON.parse(text);
    if (!response.ok)
      throw errorFromStatus(response.status, parsed, response.headers.get('x-request-id') ?? undefined);
    return parsed as T;
  }
  return {
    async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
      try {
        return await once<T>(method, path, body, signal, false);
      } catch (error) {
        // A token that expired between minting and use: one retry with a fresh one.
        if ((error as { kind?: string }).kind === 'unauthenticated')
          return once<T>(method, path, body, signal, true);
        throw error;
      }
    },
  };
}
