import { afterEach, describe, expect, it } from 'vitest';
import { type ClientStatus, type ConfigChange, type ConfigClient, createConfigClient } from '../src/index.js';
import { put, type RestartableServer, restartableConfigServer, tokens, waitFor } from './support.js';

const NS = 'system.clienttest.db';
const backoff = { baseMs: 50, maxMs: 400 };

describe('config client against a restarting config-server', () => {
  let server: RestartableServer | undefined;
  let client: ConfigClient | undefined;
  afterEach(async () => {
    await client?.close();
    await server?.dispose();
    client = undefined;
    server = undefined;
  });

  it('delivers every change once and in order across a server restart mid-watch', async () => {
    server = await restartableConfigServer();
    const s = server;
    expect((await put(s.current!, NS, 'pool', 1)).status).toBe(201);
    client = await createConfigClient({
      baseUrl: s.baseUrl,
      grpcUrl: s.grpcUrl,
      token: tokens.auditor,
      namespaces: [NS],
      backoff,
    });
    expect(client.status).toBe('live');
    expect(client.get(NS, 'pool')).toBe(1);

    const seen: ConfigChange[] = [];
    const statuses: ClientStatus[] = [];
    client.onChange((change) => seen.push(change));
    client.onStatus((event) => statuses.push(event.status));

    let version = 1;
    for (let value = 2; value <= 4; value++) {
      expect((await put(s.current!, NS, 'pool', value, version++)).status).toBe(200);
    }
    await waitFor('seen.length === 3', () => seen.length === 3);

    await s.stop();
    await waitFor('client?.status === "reconnecting"', () => client?.status === 'reconnecting');
    await s.start();
    // Written right after the restart, racing the client's reconnect: replay or live, each exactly once.
    for (let value = 5; value <= 8; value++) {
      expect((await put(s.current!, NS, 'pool', value, version++)).status).toBe(200);
    }
    expect((await put(s.current!, NS, 'other', 'x')).status).toBe(201);
    await waitFor('seen.length === 8', () => seen.length === 8, 15_000);
    // A moment more: a duplicate would arrive now if the resume overlapped.
    await new Promise((r) => setTimeout(r, 300));

    expect(seen.map((c) => [c.key, c.newValue])).toEqual([
      ['pool', 2],
      ['pool', 3],
      ['pool', 4],
      ['pool', 5],
      ['pool', 6],
      ['pool', 7],
      ['pool', 8],
      ['other', 'x'],
    ]);
    expect(seen.map((c) => c.oldValue)).toEqual([1, 2, 3, 4, 5, 6, 7, undefined]);
    const revisions = seen.map((c) => c.revision ?? -1);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    expect(new Set(revisions).size).toBe(8);
    expect(seen.every((c) => c.source === 'watch' && c.actor === 'sys_operator@example.com')).toBe(true);
    expect(statuses).toEqual(['reconnecting', 'live']);
    expect(client.get(NS, 'pool')).toBe(8);
    expect(client.revision).toBe(revisions.at(-1));
  });
});
