/**
 * What the config server publishes, read back over the Kafka wire protocol: ConfigChangedEvent
 * (protobuf, design 001) on k1s0.system.config.changed.v1 keyed by namespace, and at-least-once
 * delivery across a broker outage and a service restart during one.
 */
import { randomUUID } from 'node:crypto';
import { fromBinary } from '@bufbuild/protobuf';
import {
  type ExpectedDelivery,
  ensureKafkaMockBuilt,
  kafkaServiceHarness,
  type RecordedMessage,
  type TopicRecorder,
} from '@k1s0/platform/testing';
import { ConfigChangedEventSchema, type eventConfigV1 } from '@k1s0/proto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ConfigServer, call, put, startConfigServer, tokens } from './support/service.js';

/** A change-log row as GET …/history answers it. */
interface HistoryRow {
  revision: number;
  id: string;
  namespace: string;
  key: string;
  old_value: unknown;
  new_value: unknown;
  old_version: number;
  new_version: number;
  change_type: string;
  changed_by: string;
  changed_at: string;
}

const eventOf = (message: RecordedMessage): eventConfigV1.ConfigChangedEvent =>
  fromBinary(ConfigChangedEventSchema, new Uint8Array(message.value));
const eventIdOf = (message: RecordedMessage) => eventOf(message).metadata?.eventId ?? '';

const harness = kafkaServiceHarness<ConfigServer>({
  topic: 'k1s0.system.config.changed.v1',
  start: (databaseUrl, brokers) => startConfigServer(databaseUrl, { KAFKA_BROKERS: brokers }),
  idOf: eventIdOf,
});
afterEach(() => harness.cleanUp());

/**
 * A small namespace's life through REST: create, update, delete `key`; returns its change-log rows
 * (the expected events, in commit order).
 */
async function createUpdateDelete(
  server: ConfigServer,
  namespace: string,
  key: string,
): Promise<HistoryRow[]> {
  const created = await put(server, namespace, key, { limit: 1 });
  expect(created.status).toBe(201);
  expect((await put(server, namespace, key, { limit: 2, tags: ['a'] }, created.body.version)).status).toBe(
    200,
  );
  const deleted = await call(server, 'DELETE', `/api/v1/config/${namespace}/${key}`, { token: tokens.admin });
  expect(deleted.status).toBe(204);
  return history(server, namespace, key);
}

/** Change-log rows of one key, oldest first. */
async function history(server: ConfigServer, namespace: string, key: string): Promise<HistoryRow[]> {
  const response = await call<{ history: HistoryRow[] }>(
    server,
    'GET',
    `/api/v1/config/${namespace}/${key}/history?page_size=100`,
    { token: tokens.auditor },
  );
  expect(response.status).toBe(200);
  return [...response.body.history].sort((a, b) => a.revision - b.revision);
}

/** Creates (version 0) or updates `key` and returns the change-log row of that write. */
async function write(
  server: ConfigServer,
  namespace: string,
  key: string,
  value: unknown,
): Promise<HistoryRow> {
  const current = await call<{ version: number }>(server, 'GET', `/api/v1/config/${namespace}/${key}`, {
    token: tokens.auditor,
  });
  const response = await put(
    server,
    namespace,
    key,
    value,
    current.status === 200 ? current.body.version : 0,
  );
  expect(response.status, JSON.stringify(response.body)).toBeLessThan(300);
  const rows = await history(server, namespace, key);
  return rows[rows.length - 1]!;
}

const expectedDeliveries = (rows: readonly HistoryRow[]): ExpectedDelivery[] =>
  rows.map((row) => ({ id: row.id, key: row.namespace }));
/** An event's old/new value: JSON text, '' for none (the change log answers null). */
const parsedValue = (text: string): unknown => (text === '' ? null : JSON.parse(text));

const waitForAll = (recorder: TopicRecorder, rows: readonly HistoryRow[]) =>
  harness.waitForAll(recorder, expectedDeliveries(rows));

/**
 * At-least-once delivery of `rows` within `messages`: each present, each namespace on one partition,
 * per namespace the first deliveries in commit order. Returns the re-delivery count.
 */
function assertDeliveredInOrder(messages: readonly RecordedMessage[], rows: readonly HistoryRow[]): number {
  const report = harness.report(messages, expectedDeliveries(rows));
  expect(report.missing).toEqual([]);
  expect(report.splitKeys).toEqual([]);
  expect(report.deliveredOrder).toEqual(report.expectedOrder);
  return report.duplicates;
}

const OUTBOX_LABEL = 'outbox="config_server.outbox"';
/** Outbox rows not yet acknowledged by Kafka. */
const backlog = (server: ConfigServer) => harness.metric(server, 'outbox_backlog', OUTBOX_LABEL);

describe('config server → Kafka', () => {
  // The first build on a machine downloads and compiles librdkafka.
  beforeAll(() => ensureKafkaMockBuilt(), 240_000);

  it('publishes each change once as a ConfigChangedEvent keyed by namespace, in commit order per namespace', async () => {
    const { service: server, recorder } = await harness.startRecorded(await harness.sharedBroker());

    const run = randomUUID().slice(0, 8);
    const namespaces = ['system.billing', 'system.auth', 'business.orders'].map(
      (prefix) => `${prefix}.k${run}`,
    );
    const changes: HistoryRow[] = [];
    for (const namespace of namespaces) {
      changes.push(...(await createUpdateDelete(server, namespace, 'max_retries')));
      changes.push(await write(server, namespace, 'timeout', '30s'));
    }
    await waitForAll(recorder, changes);

    const ours = recorder.messages.filter((message) => namespaces.includes(message.key));
    expect(ours).toHaveLength(changes.length); // exactly once in normal operation
    for (const change of changes) {
      const message = ours.find((candidate) => eventIdOf(candidate) === change.id);
      expect(message?.key).toBe(change.namespace);
      expect(message?.headers).toMatchObject({ 'event-type': 'config.changed' });
      expect(message && eventOf(message)).toMatchObject({
        metadata: {
          eventId: change.id,
          eventType: 'config.changed',
          source: 'config-server',
          timestamp: BigInt(Date.parse(change.changed_at)),
          schemaVersion: 1,
        },
        namespace: change.namespace,
        key: change.key,
        oldVersion: change.old_version,
        newVersion: change.new_version,
        changeType: change.change_type,
        changedBy: change.changed_by,
      });
      // Same JSON value; key order may differ (the change log is jsonb, the event keeps the written text).
      expect(
        message && [parsedValue(eventOf(message).oldValue), parsedValue(eventOf(message).newValue)],
      ).toEqual([change.old_value, change.new_value]);
    }
    // The three kinds of change, with the actor of each request.
    const firstNamespace = ours.filter((message) => message.key === namespaces[0]).map(eventOf);
    expect(
      firstNamespace.map((event) => [event.key, event.changeType, event.oldVersion, event.newVersion]),
    ).toEqual([
      ['max_retries', 'CREATED', 0, 1],
      ['max_retries', 'UPDATED', 1, 2],
      ['max_retries', 'DELETED', 2, 0],
      ['timeout', 'CREATED', 0, 1],
    ]);
    expect(firstNamespace.map((event) => event.changedBy)).toEqual([
      'sys_operator@example.com',
      'sys_operator@example.com',
      'sys_admin@example.com',
      'sys_operator@example.com',
    ]);
    expect(firstNamespace.map((event) => [parsedValue(event.oldValue), parsedValue(event.newValue)])).toEqual(
      [
        [null, { limit: 1 }],
        [{ limit: 1 }, { limit: 2, tags: ['a'] }],
        [{ limit: 2, tags: ['a'] }, null],
        [null, '30s'],
      ],
    );
    expect(firstNamespace[0]?.oldValue).toBe(''); // none is the empty string (design 001)
    expect(assertDeliveredInOrder(ours, changes)).toBe(0);
  }, 30_000);

  it('a secret entry\'s events carry "[redacted]", never the value (SPEC §8)', async () => {
    const { service: server, recorder } = await harness.startRecorded(await harness.sharedBroker());
    const namespace = `system.vault.k${randomUUID().slice(0, 8)}`;
    const plaintext = 'kafka-must-not-see-this';
    const created = await call(server, 'PUT', `/api/v1/config/${namespace}/password`, {
      token: tokens.operator,
      body: { value: plaintext, version: 0, secret: true },
    });
    expect(created.status).toBe(201);
    const rows = [await write(server, namespace, 'password', `${plaintext}-2`)];
    const all = await history(server, namespace, 'password');
    await waitForAll(recorder, all);
    const ours = recorder.messages.filter((message) => message.key === namespace);
    expect(ours.map((m) => [eventOf(m).changeType, eventOf(m).oldValue, eventOf(m).newValue])).toEqual([
      ['CREATED', '', '"[redacted]"'],
      ['UPDATED', '"[redacted]"', '"[redacted]"'],
    ]);
    expect(rows[0]?.new_value).toBe('[redacted]'); // the auditor's history view
    for (const message of ours)
      expect(Buffer.from(message.value).toString('latin1')).not.toContain(plaintext);
  });

  it('keeps accepting writes while the broker is down, reports it in /readyz, and delivers everything once it is back', async ({
    annotate,
  }) => {
    const first = await harness.startBroker();
    const { service: server, recorder: before } = await harness.startRecorded(first);
    const namespaces = ['system.alpha', 'system.beta', 'service.gamma'].map(
      (prefix) => `${prefix}.o${randomUUID().slice(0, 8)}`,
    );

    const published: HistoryRow[] = [];
    for (const namespace of namespaces) published.push(await write(server, namespace, 'mode', 'initial'));
    await waitForAll(before, published);
    await harness.waitForKafkaReadiness(server, true);
    await before.close();

    await first.stop();
    const duringOutage: HistoryRow[] = [];
    for (const round of [1, 2, 3, 4]) {
      for (const namespace of namespaces)
        duringOutage.push(await write(server, namespace, 'mode', `outage-${round}`));
    }
    await harness.waitForKafkaReadiness(server, false);
    // The outage outlasts a publish attempt (the producer's own retries), so the relay's retry path runs.
    await harness.waitFor(
      'a failed relay attempt',
      async () => ((await harness.metric(server, 'outbox_relay_errors_total', OUTBOX_LABEL)) ?? 0) > 0,
    );
    // Deletes too, written after the relay has failed.
    for (const namespace of namespaces) {
      const deleted = await call(server, 'DELETE', `/api/v1/config/${namespace}/mode`, {
        token: tokens.admin,
      });
      expect(deleted.status).toBe(204);
      duringOutage.push((await history(server, namespace, 'mode')).at(-1)!);
    }
    expect(await backlog(server)).toBe(duringOutage.length);

    // The mock keeps data in memory: the new broker starts empty, at the same address.
    const { recorder: after } = await harness.restartBroker(first);
    await waitForAll(after, duringOutage);
    await harness.waitForKafkaReadiness(server, true);

    const duplicates = assertDeliveredInOrder(after.messages, duringOutage);
    await annotate(`${duringOutage.length} changes written during the outage, ${duplicates} re-deliveries`);
    expect(after.messages.filter((message) => eventOf(message).changeType === 'DELETED')).toHaveLength(3);
    // Acknowledged rows leave the outbox, so what the first broker took is not sent again.
    const publishedIds = new Set(published.map((row) => row.id));
    expect(after.messages.filter((message) => publishedIds.has(eventIdOf(message)))).toEqual([]);
    await harness.waitFor('an empty outbox', async () => (await backlog(server)) === 0);
  }, 45_000);

  it('loses nothing when the server restarts while changes wait for the broker', async ({ annotate }) => {
    const first = await harness.startBroker();
    const testDb = await harness.freshDatabase();
    const namespace = `system.restart.r${randomUUID().slice(0, 8)}`;
    const other = `business.restart.r${randomUUID().slice(0, 8)}`;

    const firstInstance = await harness.startService(testDb.url, first.brokers);
    const before = await harness.startRecorder(first.bootstrapBrokers);
    const published = [await write(firstInstance, namespace, 'level', 1)];
    await waitForAll(before, published);
    await before.close();
    await first.stop();

    const pending: HistoryRow[] = [];
    pending.push(await write(firstInstance, namespace, 'level', 2));
    pending.push(await write(firstInstance, other, 'level', 1));
    pending.push(await write(firstInstance, namespace, 'level', 3));
    await firstInstance.stop();

    // A new instance on the same database, the broker still down: the rows wait in the outbox.
    const secondInstance = await harness.startService(testDb.url, first.brokers);
    pending.push(await write(secondInstance, other, 'level', 2));
    pending.push(await write(secondInstance, namespace, 'level', 4));
    expect(await backlog(secondInstance)).toBe(pending.length);

    const { recorder: after } = await harness.restartBroker(first);
    await waitForAll(after, pending);
    const duplicates = assertDeliveredInOrder(after.messages, pending);
    await annotate(`${pending.length} pending changes across the restart, ${duplicates} re-deliveries`);
    await harness.waitForKafkaReadiness(secondInstance, true);
  }, 45_000);
});
