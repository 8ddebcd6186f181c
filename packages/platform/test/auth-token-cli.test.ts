import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier, DEV_DEFAULT_SECRET } from '../src/auth/index.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const cli = fileURLToPath(new URL('../src/auth/token-cli.ts', import.meta.url));

// Runs the CLI as `pnpm token` does (tsx), without inheriting AUTH_* from the test environment.
async function runCli(args: string[], env: Record<string, string> = {}) {
  const { AUTH_DEV_SECRET: _s, AUTH_ISSUER: _i, AUTH_AUDIENCE: _a, ...baseEnv } = process.env;
  return promisify(execFile)(process.execPath, ['--import', 'tsx', cli, ...args], {
    cwd: repoRoot,
    env: { ...baseEnv, ...env },
  });
}

describe('pnpm token', () => {
  it('prints only a token that the dev verifier accepts with the default secret', async () => {
    const { stdout } = await runCli(['--role', 'sys_admin', '--email', 'a@example.com']);
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const principal = await createTokenVerifier({ devSecret: DEV_DEFAULT_SECRET, appEnv: 'dev' }).verify(
      stdout.trim(),
    );
    expect(principal.actor).toBe('a@example.com');
    expect(principal.roles).toEqual(new Set(['sys_admin']));
    expect(principal.claims).toMatchObject({
      preferred_username: 'a',
      realm_access: { roles: ['sys_admin'] },
    });
  }, 20_000);

  it('honours --secret, --ttl, --sub, --iss and --aud, and AUTH_DEV_SECRET', async () => {
    const args = [
      '--role',
      'sys_auditor',
      '--sub',
      'svc-1',
      '--ttl',
      '120',
      '--iss',
      'https://iss',
      '--aud',
      'k1s0',
    ];
    const { stdout } = await runCli([...args, '--secret', 's3cret']);
    const verifier = createTokenVerifier({
      devSecret: 's3cret',
      appEnv: 'dev',
      issuer: 'https://iss',
      audience: 'k1s0',
    });
    const { claims, actor } = await verifier.verify(stdout.trim());
    expect(actor).toBe('svc-1');
    expect(Number(claims.exp) - Number(claims.iat)).toBe(120);

    const fromEnv = await runCli(['--role', 'sys_auditor'], { AUTH_DEV_SECRET: 'env-secret' });
    await expect(
      createTokenVerifier({ devSecret: 'env-secret', appEnv: 'dev' }).verify(fromEnv.stdout.trim()),
    ).resolves.toBeDefined();
  }, 20_000);

  it('puts --scope patterns into k1s0_namespaces, which the verifier reads as scopes', async () => {
    const { stdout } = await runCli([
      '--role',
      'sys_auditor',
      '--scope',
      'service.payment.*',
      '--scope',
      'a.b',
    ]);
    const principal = await createTokenVerifier({ devSecret: DEV_DEFAULT_SECRET, appEnv: 'dev' }).verify(
      stdout.trim(),
    );
    expect(principal.scopes).toEqual(['service.payment.*', 'a.b']);
  }, 20_000);

  it('exits 1 on an unknown role', async () => {
    await expect(runCli(['--role', 'sys_root'])).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('unknown role: sys_root'),
    });
  }, 20_000);
});
