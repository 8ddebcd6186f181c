import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tokenFor } from '@k1s0/platform/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { startWithDatabase, tokens } from '../../../apps/config-server/test/support/service.js';
import { type Harness, startHarness } from '../../../apps/event-store/test/support/service-harness.js';
import { EXIT, run } from '../src/cli.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

describe('k1s0ctl against the real services', () => {
  let config: Awaited<ReturnType<typeof startWithDatabase>>;
  let events: Harness;
  let dir: string;
  beforeAll(async () => {
    config = await startWithDatabase({ APP_ENV: 'test' });
    events = await startHarness();
    dir = await mkdtemp(join(tmpdir(), 'k1s0ctl-'));
  });
  afterAll(async () => {
    await config?.stop();
    await events?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Runs one command in-process; token sys_admin unless given. */
  async function ctl(args: string[], token: string = tokens.admin) {
    let stdout = '';
    let stderr = '';
    const code = await run(args, {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      env: {
        K1S0_TOKEN: token,
        K1S0_CONFIG_URL: `http://127.0.0.1:${config.server.restPort}`,
        K1S0_CONFIG_GRPC_URL: `http://127.0.0.1:${config.server.grpcPort}`,
        K1S0_EVENTS_URL: events.baseUrl,
      },
    });
    return { code, stdout, stderr };
  }

  it('round-trips a namespace through export and import (YAML and JSON), with a dry-run diff', async () => {
    const ns = 'service.ctl.api';
    expect(
      (await ctl(['config', 'put', ns, 'timeout_ms', '500', '--description', 'request timeout'])).code,
    ).toBe(0);
    expect((await ctl(['config', 'put', ns, 'features', '{"beta":true,"tags":["a","b"]}'])).code).toBe(0);
    expect((await ctl(['config', 'put', ns, 'greeting', 'hello world', '--string'])).code).toBe(0);

    const yamlFile = join(dir, 'ns.yaml');
    expect((await ctl(['config', 'export', ns, '--file', yamlFile])).code).toBe(0);
    const exported = YAML.parse(await readFile(yamlFile, 'utf8'));
    expect(exported).toEqual({
      namespace: ns,
      entries: [
        { key: 'features', value: { beta: true, tags: ['a', 'b'] } },
        { key: 'greeting', value: 'hello world' },
        { key: 'timeout_ms', value: 500, description: 'request timeout' },
      ],
    });

    // Import into another namespace: dry run changes nothing and shows the plan.
    const target = 'service.ctl.copy';
    const dry = await ctl(['config', 'import', yamlFile, '--namespace', target, '--dry-run', '-o', 'json']);
    expect(dry.code).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      namespace: target,
      dry_run: true,
      created: 3,
      updated: 0,
    });
    expect(dry.stderr).toContain('+ timeout_ms = 500');
    expect((await ctl(['config', 'get', target, 'timeout_ms'])).code).toBe(EXIT.notFound);

    expect((await ctl(['config', 'import', yamlFile, '--namespace', target, '-o', 'json'])).code).toBe(0);
    const copyFile = join(dir, 'copy.json');
    expect((await ctl(['config', 'export', target, '--format', 'json', '--file', copyFile])).code).toBe(0);
    expect({ ...JSON.parse(await readFile(copyFile, 'utf8')), namespace: ns }).toEqual(exported);

    // Edit the JSON export and import it back: one update, the rest unchanged.
    const edited = JSON.parse(await readFile(copyFile, 'utf8'));
    edited.entries[2].value = 750;
    await writeFile(copyFile, JSON.stringify(edited));
    const diff = await ctl(['config', 'import', copyFile, '--dry-run', '-o', 'json']);
    expect(diff.stderr).toContain('~ timeout_ms: 500 -> 750');
    expect(JSON.parse(diff.stdout)).toMatchObject({ created: 0, updated: 1, unchanged: 2 });
    expect((await ctl(['config', 'import', copyFile])).code).toBe(0);
    const got = await ctl(['config', 'get', target, 'timeout_ms', '-o', 'json']);
    expect(JSON.parse(got.stdout)).toMatchObject({ value: 750, version: 2, description: 'request timeout' });
  });

  it('exit codes: 0 ok, 1 failure, 2 usage, 3 conflict, 4 not found', async () => {
    const ns = 'service.ctl.codes';
    expect((await ctl(['config', 'put', ns, 'k', '1'])).code).toBe(EXIT.ok);
    expect((await ctl(['config', 'put', ns, 'k', '2', '--version', '7'])).code).toBe(EXIT.conflict);
    expect((await ctl(['config', 'get', ns, 'missing'])).code).toBe(EXIT.notFound);
    expect((await ctl(['config', 'get', ns])).code).toBe(EXIT.usage);
    expect((await ctl(['config', 'frobnicate'])).code).toBe(EXIT.usage);
    expect((await ctl(['config', 'list', ns, '--bogus'])).code).toBe(EXIT.usage);
    expect((await ctl(['config', 'put', ns, 'k', 'not json'])).code).toBe(EXIT.usage);
    expect((await ctl(['config', 'put', 'Bad Namespace', 'k', '1'])).code).toBe(EXIT.failure);
    expect((await ctl(['config', 'delete', ns, 'k'], tokens.operator)).code).toBe(EXIT.failure);
    expect((await ctl(['config', 'delete', ns, 'k'])).code).toBe(EXIT.ok);
    expect((await ctl(['config', 'history', ns, 'k', '-o', 'json'])).code).toBe(EXIT.ok);

    const op = tokenFor('sys_operator');
    expect(
      (
        await ctl(
          [
            'events',
            'append',
            'ctl-1',
            '--type',
            'Made',
            '--data',
            '{"n":1}',
            '--expected-version',
            'no_stream',
          ],
          op,
        )
      ).code,
    ).toBe(EXIT.ok);
    expect(
      (
        await ctl(
          ['events', 'append', 'ctl-1', '--type', 'Made', '--data', '{}', '--expected-version', 'no_stream'],
          op,
        )
      ).code,
    ).toBe(EXIT.conflict);
    expect(
      (
        await ctl(
          ['events', 'append', 'ctl-1', '--type', 'Made', '--data', '{}', '--expected-version', '5'],
          op,
        )
      ).code,
    ).toBe(EXIT.conflict);
    expect((await ctl(['events', 'read', 'nope-1'], tokenFor('sys_auditor'))).code).toBe(EXIT.notFound);
    const read = await ctl(['events', 'read', 'ctl-1', '-o', 'json'], tokenFor('sys_auditor'));
    expect(JSON.parse(read.stdout)).toMatchObject([
      { streamId: 'ctl-1', version: 1, type: 'Made', data: { n: 1 } },
    ]);
    const streams = await ctl(['events', 'streams', '-o', 'json'], tokenFor('sys_auditor'));
    expect(JSON.parse(streams.stdout)).toEqual([
      expect.objectContaining({ stream: 'ctl-1', events: 1, version: 1, last_type: 'Made' }),
    ]);
    expect((await ctl(['events', 'append', 'ctl-1', '--data', '{}'], op)).code).toBe(EXIT.usage);
  });

  it('./k1s0 ctl runs the CLI and exits with its code', async () => {
    const exec = promisify(execFile);
    const env = {
      ...process.env,
      K1S0_TOKEN: tokens.auditor,
      K1S0_CONFIG_URL: `http://127.0.0.1:${config.server.restPort}`,
    };
    const missing = await exec('./k1s0', ['ctl', 'config', 'get', 'service.ctl.codes', 'nothing'], {
      cwd: repoRoot,
      env,
    }).catch((e: { code: number; stderr: string }) => e);
    expect(missing).toMatchObject({ code: EXIT.notFound });
    expect((missing as { stderr: string }).stderr).toContain('SYS_CONFIG_KEY_NOT_FOUND');
    const help = await exec('./k1s0', ['ctl', '--help'], { cwd: repoRoot, env });
    expect(help.stdout).toContain('exit codes: 0 ok, 1 failure, 2 usage, 3 conflict, 4 not found');
  });
});
