import { generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';

/**
 * A stand-in identity provider: one RS256 key, its JWKS served over HTTP the way Keycloak serves
 * it, and tokens signed with it. The services then run with APP_ENV=prod and verify every token's
 * RS256 signature, iss and aud, exactly as in production.
 */
export interface BenchIssuer {
  jwksUrl: string;
  issuer: string;
  audience: string;
  mint(claims: { roles: string[]; email: string; ttlSec?: number }): string;
  close(): Promise<void>;
}

const JWKS_PATH = '/realms/bench/protocol/openid-connect/certs';

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function signJwt(privateKey: KeyObject, kid: string, payload: Record<string, unknown>): string {
  const input = `${base64url({ alg: 'RS256', typ: 'JWT', kid })}.${base64url(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

export async function startBenchIssuer(): Promise<BenchIssuer> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwks = JSON.stringify({
    keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }],
  });
  const server: Server = createServer((request, response) => {
    if (request.url === JWKS_PATH) {
      response.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const issuer = `http://127.0.0.1:${port}/realms/bench`;
  const audience = 'k1s0-system';
  return {
    jwksUrl: `http://127.0.0.1:${port}${JWKS_PATH}`,
    issuer,
    audience,
    mint({ roles, email, ttlSec = 4 * 3600 }) {
      const now = Math.floor(Date.now() / 1000);
      return signJwt(privateKey, kid, {
        iss: issuer,
        aud: audience,
        sub: randomUUID(),
        email,
        iat: now,
        nbf: now - 5,
        exp: now + ttlSec,
        realm_access: { roles },
      });
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
