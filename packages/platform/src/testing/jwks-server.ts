import { generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSigner } from 'fast-jwt';

/** A signing key as an IdP holds it: private key for minting, public JWK for the JWKS. */
export interface TestSigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: KeyObject;
  publicKey: KeyObject;
  jwk: JsonWebKey;
}

export function generateSigningKey(alg: 'RS256' | 'ES256', kid: string): TestSigningKey {
  const { privateKey, publicKey } =
    alg === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    kid,
    alg,
    privateKey,
    publicKey,
    jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' },
  };
}

export function signWith(
  key: TestSigningKey,
  claims: Record<string, unknown>,
  header: { kid?: string } = {},
): string {
  const pem = key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return createSigner({ key: pem, algorithm: key.alg, kid: header.kid ?? key.kid, noTimestamp: true })(
    claims,
  );
}

/** A Keycloak-like JWKS endpoint on 127.0.0.1 whose key set can be swapped (rotation) and whose hits are counted. */
export interface JwksServer {
  readonly url: string;
  readonly hits: number;
  setKeys(keys: readonly TestSigningKey[]): void;
  /** While true, the endpoint answers 503 (an IdP outage). */
  setFailing(failing: boolean): void;
  close(): Promise<void>;
}

export const JWKS_PATH = '/realms/k1s0/protocol/openid-connect/certs';

export async function startJwksServer(initialKeys: readonly TestSigningKey[]): Promise<JwksServer> {
  let keys = initialKeys;
  let hits = 0;
  let failing = false;
  const server = createServer((req, res) => {
    if (req.url !== JWKS_PATH) {
      res.writeHead(404).end();
      return;
    }
    hits += 1;
    if (failing) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: keys.map((key) => key.jwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${JWKS_PATH}`,
    get hits() {
      return hits;
    },
    setKeys(next) {
      keys = next;
    },
    setFailing(next) {
      failing = next;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
