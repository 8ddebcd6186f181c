import type {
  ConfigEntry,
  ConfigValue,
  ConfigWriter,
  PendingConfigChange,
  WriteResult,
} from '@k1s0/config-domain';
import {
  type Database,
  databaseGroupCommit,
  type GroupCommit,
  type GroupOutcome,
  isConnectFailure,
  isDatabaseUnavailable,
  outboxChannel,
  unavailableOrOriginal,
  type WriteBatchLimits,
  wakeUp,
} from '@k1s0/platform';
import { configChangedMessage } from '../events/config-changed-event.js';
import { CHANGE_CHANNEL } from '../feed/change-notification.js';
import { configOutbox } from './schema.js';
import { SecretValues } from './secret-values.js';
import {
  committedChanges,
  jsonText,
  type PreparedWrite,
  planBatch,
  type StoredEntry,
  writeBatch,
  writeOutcome,
} from './write-batch.js';

export interface PostgresConfigWriterOptions {
  /** Kafka topic of ConfigChangedEvent (`kafka.topic_changed`). */
  topic: string;
  /** Bounds of one group-commit batch (default: the platform's DEFAULT_WRITE_BATCH_LIMITS). */
  batch?: WriteBatchLimits;
}

const OUTBOX_CHANNEL = outboxChannel(configOutbox);

/**
 * ConfigWriter with group commit: each call is a compare-and-set write that joins the next batch;
 * writes that arrive while a batch commits are committed together as the following one, in ONE SQL
 * statement (write-batch.ts: one transaction, one flush, one revision allocation for the batch,
 * multi-row writes of entries, change log and outbox). A write that finds a free commit slot goes
 * at once, alone: no timer, so a lone write is never delayed.
 *
 * Each write keeps its own answer: `committed` with its revision, or `conflict` (its condition did
 * not match, nothing of it was written). A write the database rejects (the statement fails) fails
 * alone: GroupCommit splits the batch until only the culprit is left. After a commit, coalesced
 * payload-free wake-ups go to the change feeds and the outbox relay.
 */
export class PostgresConfigWriter implements ConfigWriter {
  private readonly batches: GroupCommit<PreparedWrite, WriteResult>;

  constructor(
    private readonly database: Database,
    private readonly options: PostgresConfigWriterOptions,
    /** Without a cipher (the default) a secret write is refused: fails closed. */
    private readonly values: SecretValues = new SecretValues(undefined),
  ) {
    this.batches = databaseGroupCommit(
      (batch) => this.commit(batch),
      (write) => write.bytes,
      options.batch,
    );
  }

  /** Writes waiting for the batch in flight to commit (tests, metrics). */
  get queuedWrites(): number {
    return this.batches.waiting;
  }

  insert(entry: ConfigEntry, change: PendingConfigChange, requestId: string): Promise<WriteResult> {
    return this.submit(() => this.prepare('insert', entry.id, 0, entry, change, requestId));
  }

  update(
    next: ConfigEntry,
    expectedVersion: number,
    change: PendingConfigChange,
    requestId: string,
  ): Promise<WriteResult> {
    return this.submit(() => this.prepare('update', next.id, expectedVersion, next, change, requestId));
  }

  remove(current: ConfigEntry, change: PendingConfigChange, requestId: string): Promise<WriteResult> {
    return this.submit(() =>
      this.prepare('remove', current.id, current.version, undefined, change, requestId, current),
    );
  }

  private submit(prepare: () => PreparedWrite): Promise<WriteResult> {
    let write: PreparedWrite;
    try {
      write = prepare();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.batches.submit(write);
  }

  /**
   * Everything that needs the caller's context, before the write joins a batch: the secret value
   * sealed (a refusal fails this write only) and the event encoded with the request's correlation
   * and trace ids (it carries no revision, so it is encoded before the revision is drawn).
   */
  private prepare(
    op: PreparedWrite['op'],
    targetId: string,
    expectedVersion: number,
    next: ConfigEntry | undefined,
    change: PendingConfigChange,
    requestId: string,
    subject: ConfigEntry | undefined = next,
  ): PreparedWrite {
    const stored: StoredEntry | undefined =
      next === undefined
        ? undefined
        : {
            entry: next,
            value:
              jsonText(this.values.toStored(next.value, next.secret, next.namespace, next.key)) ?? 'null',
            metadata: jsonText(next.metadata),
          };
    const oldValue = this.storedChangeValue(change, change.oldValue);
    const newValue = this.storedChangeValue(change, change.newValue);
    const message = configChangedMessage(change, this.options.topic, { correlationId: requestId });
    const bytes =
      (stored?.value.length ?? 0) +
      (oldValue?.length ?? 0) +
      (newValue?.length ?? 0) +
      message.value.byteLength;
    return {
      op,
      namespace: subject?.namespace ?? change.namespace,
      key: subject?.key ?? change.key,
      targetId,
      expectedVersion,
      next: stored,
      change,
      oldValue,
      newValue,
      message,
      bytes,
    };
  }

  /** A change-log value column: sealed when the change is secret. */
  private storedChangeValue(change: PendingConfigChange, value: ConfigValue | null): string | null {
    return jsonText(this.values.toStored(value, change.secret, change.namespace, change.key));
  }

  /**
   * One batch. A lost connection (killed backend, failover) is retried once on another
   * connection; which writes the lost attempt committed is then read from the change log (each
   * change's id is unique), not guessed: the retry's key locks wait until the lost transaction has
   * ended, and a write it had committed no longer matches its condition, so it is answered from
   * the log. Not when the connection could not even be opened: then nothing ran, and the queue
   * fails at once (GroupCommit failsQueue) instead of each write waiting out a connect timeout.
   * Any other error is thrown: GroupCommit splits the batch so only the culprit fails.
   */
  private async commit(batch: readonly PreparedWrite[]): Promise<GroupOutcome<WriteResult>[]> {
    const plans = planBatch(batch);
    const writes: PreparedWrite[] = [];
    const slots: number[] = [];
    plans.forEach((plan, index) => {
      if (plan.kind === 'write') {
        slots.push(index);
        writes.push(batch[index]!);
      }
    });
    let revisions: Map<number, bigint>;
    try {
      revisions = await this.send(writes);
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      if (isConnectFailure(error))
        return batch.map(() => ({ kind: 'failed', error: unavailableOrOriginal(error) }));
      try {
        revisions = await this.send(writes);
        const missing = writes.filter((_, i) => !revisions.has(i)).map((write) => write.change.id);
        if (missing.length > 0) {
          const committedBefore = await committedChanges(this.database.sql, missing);
          writes.forEach((write, i) => {
            const revision = committedBefore.get(write.change.id);
            if (revision !== undefined) revisions.set(i, revision);
          });
        }
      } catch (retryError) {
        const unavailable = unavailableOrOriginal(isDatabaseUnavailable(retryError) ? retryError : error);
        return batch.map(() => ({ kind: 'failed', error: unavailable }));
      }
    }
    const outcomes: GroupOutcome<WriteResult>[] = plans.map((plan) =>
      plan.kind === 'conflict' ? { kind: 'done', value: { outcome: 'conflict' } } : { kind: 'deferred' },
    );
    slots.forEach((index, i) => {
      outcomes[index] = writeOutcome(batch[index]!, revisions.get(i));
    });
    if (revisions.size > 0) {
      wakeUp(this.database, CHANGE_CHANNEL);
      wakeUp(this.database, OUTBOX_CHANNEL);
    }
    return outcomes;
  }

  private send(writes: readonly PreparedWrite[]): Promise<Map<number, bigint>> {
    return writeBatch(this.database.sql, writes);
  }
}
