import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tokenFor } from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { put, startWithDatabase, tokens } from '../../../apps/config-server/test/support/service.js';
import { type Harness, startHarness } from '../../../apps/event-store/test/support/service-harness.js';

const exec = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const PACKAGES = ['config-client', 'event-store-client', 'k1s0ctl'];

/**
 * The packages as another repository gets them: built, packed by pnpm, installed by npm from the
 * tarballs into a folder outside the workspace (public dependencies from the registry), and used
 * against the running services.
 */
describe('packed tarballs installed outside the workspace', () => {
  let consumer: string;
  let config: Awaited<ReturnType<typeof startWithDatabase>>;
  let events: Harness;
  beforeAll(async () => {
    consumer = await mkdtemp(join(tmpdir(), 'k1s0-consumer-'));
    const tarballs = join(consumer, 'tarballs');
    for (const name of PACKAGES) {
      const cwd = join(repoRoot, 'packages', name);
      await exec('pnpm', ['run', 'build'], { cwd });
      await exec('pnpm', ['pack', '--pack-destination', tarballs], { cwd });
    }
    const files = (await readdir(tarballs)).map((f) => join(tarballs, f));
    await writeFile(
      join(consumer, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
    );
    await exec('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...files], {
      cwd: consumer,
    });
    config = await startWithDatabase({ APP_ENV: 'test' });
    events = await startHarness();
  }, 300_000);
  afterAll(async () => {
    await config?.stop();
    await events?.stop();
    if (consumer) await rm(consumer, { recursive: true, force: true });
  });

  it('depends on nothing of the monorepo at run time', async () => {
    const installed = await readdir(join(consumer, 'node_modules', '@k1s0'));
    expect(installed.sort()).toEqual(['config-client', 'event-store-client', 'k1s0ctl']);
    for (const name of PACKAGES) {
      const manifest = JSON.parse(
        await readFile(join(consumer, 'node_modules', '@k1s0', name, 'package.json'), 'utf8'),
      );
      const deps = Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies });
      expect(deps.filter((d) => d.startsWith('@k1s0/') && !PACKAGES.includes(d.slice(6)))).toEqual([]);
      expect(JSON.stringify(manifest)).not.toContain('workspace:');
      expect(manifest.exports['.'].import).toMatch(/^\.\/dist\//);
    }
  });

  it('the installed clients and CLI work against the running services', async () => {
    await put(config.server, 'service.consumer.api', 'limit', 5);
    const script = `
      import { createConfigClient } from '@k1s0/config-client';
      import { createEventStoreClient } from '@k1s0/event-store-client';
      const [restPort, grpcPort, eventsUrl, auditor, operator] = process.argv.slice(2);
      const config = await createConfigClient({
        baseUrl: 'http://127.0.0.1:' + restPort, grpcUrl: 'http://127.0.0.1:' + grpcPort,
        token: auditor, services: ['consumer'],
      });
      const store = createEventStoreClient({ baseUrl: eventsUrl, tokenProvider: () => operator });
      const appended = await store.append('pkg-1', [{ type: 'Installed', data: { ok: true } }], { expectedVersion: 'no_stream' });
      console.log(JSON.stringify({ status: config.status, service: config.getService('consumer'), version: appended.currentVersion }));
      await config.close();
    `;
    await writeFile(join(consumer, 'use.mjs'), script);
    const { stdout } = await exec(
      process.execPath,
      [
        'use.mjs',
        String(config.server.restPort),
        String(config.server.grpcPort),
        events.baseUrl,
        tokens.auditor,
        tokenFor('sys_operator'),
      ],
      { cwd: consumer },
    );
    expect(JSON.parse(stdout)).toEqual({
      status: 'live',
      service: { 'service.consumer.api': { limit: 5 } },
      version: 1,
    });

    const bin = join(consumer, 'node_modules', '.bin', 'k1s0ctl');
    const env = { ...process.env, K1S0_TOKEN: tokenFor('sys_auditor'), K1S0_EVENTS_URL: events.baseUrl };
    const read = await exec(bin, ['events', 'read', 'pkg-1', '-o', 'json'], { cwd: consumer, env });
    expect(JSON.parse(read.stdout)).toMatchObject([
      { streamId: 'pkg-1', type: 'Installed', data: { ok: true } },
    ]);
    const missing = await exec(bin, ['events', 'read', 'pkg-none'], { cwd: consumer, env }).catch(
      (e: { code: number }) => e,
    );
    expect(missing).toMatchObject({ code: 4 });
  });
});
