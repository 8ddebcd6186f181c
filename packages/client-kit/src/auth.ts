import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';

/**
 * Supplies bearer tokens. Called before every request and stream (cache in the provider if minting
 * is costly); `forceRefresh` is true after the server answered UNAUTHENTICATED / 401 once.
 */
export type TokenProvider = (context: { forceRefresh: boolean }) => string | Promise<string>;

/** Either a fixed token or a provider (one is required). */
export interface TokenOptions {
  readonly token?: string | undefined;
  readonly tokenProvider?: TokenProvider | undefined;
}

export type TokenGetter = (forceRefresh?: boolean) => Promise<string>;

export function tokenGetter(options: TokenOptions): TokenGetter {
  const { token, tokenProvider } = options;
  if (tokenProvider !== undefined) return async (forceRefresh = false) => tokenProvider({ forceRefresh });
  if (token !== undefined && token !== '') return async () => token;
  throw new TypeError('token or tokenProvider is required');
}

/**
 * Connect interceptor adding `authorization: Bearer …`; a unary call answered UNAUTHENTICATED is
 * repeated once with a refreshed token (streams are re-opened by their own reconnect loops).
 */
export function authInterceptor(getToken: TokenGetter): Interceptor {
  return (next) => async (request) => {
    request.header.set('authorization', `Bearer ${await getToken(false)}`);
    if (request.stream) return next(request);
    try {
      return await next(request);
    } catch (error) {
      if (!(error instanceof ConnectError) || error.code !== Code.Unauthenticated) throw error;
      request.header.set('authorization', `Bearer ${await getToken(true)}`);
      return next(request);
    }
  };
}
