import { and, count, desc, eq, gte, lte, type SQL } from 'drizzle-orm';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Database, Tx } from '../db/index.js';
import type { Logger } from '../observability/logger.js';
import type { AuditLogsTable } from './audit-logs-table.js';

export type AuditOutcome = 'success' | 'denied' | 'failure';

/** One fact for the audit trail. Never put a secret, token or key in any field. */
export interface AuditRecord {
  /** `apikey.created`, `apikey.revoked`, `access.denied`, `secret.read`, … */
  action: string;
  actor: string;
  /** What the action was about: a key id, `namespace/key`, a route or RPC. */
  target?: string | null | undefined;
  outcome: AuditOutcome;
  details?: Record<string, unknown> | undefined;
}

export interface AuditEntry {
  id: number;
  action: string;
  actor: string;
  target: string | null;
  outcome: string;
  details: Record<string, unknown>;
  at: Date;
}

export interface AuditQuery {
  page: number;
  pageSize: number;
  action?: string | undefined;
  actor?: string | undefined;
  /** Inclusive bounds on `at`. */
  from?: Date | undefined;
  to?: Date | undefined;
}

export interface AuditTrailOptions {
  database: Database;
  table: AuditLogsTable;
  logger: Logger;
  registry?: Registry | undefined;
  metricsPrefix?: string | undefined;
  /** Distinct queued records (see `enqueue`) beyond which new ones are dropped and counted. */
  queueCapacity?: number | undefined;
  /** How long a queued record waits for companions before the batch is written. */
  flushIntervalMs?: number | undefined;
}

const DEFAULT_QUEUE_CAPACITY = 1_000;
const DEFAULT_FLUSH_INTERVAL_MS = 1_000;
/** Rows per INSERT statement when a flush writes the queue. */
const INSERT_BATCH = 200;

interface Queued {
  record: AuditRecord;
  /** Identical records folded into this one (details.count when > 1). */
  count: number;
  firstAt: Date;
  lastAt: Date;
}

function values(record: AuditRecord, at?: Date) {
  return {
    action: record.action,
    actor: record.actor,
    target: record.target ?? null,
    outcome: record.outcome,
    details: record.details ?? {},
    ...(at === undefined ? {} : { at }),
  };
}

/**
 * A service's audit trail (SPEC §8). `record` writes at once (inside the caller's transaction
 * when given one, so a change and its audit row commit together); `enqueue` is for facts that an
 * unauthenticated caller can trigger at will (`access.denied`): they are written in batches off the
 * request path, identical ones within a batch folded into one row with a count, and beyond a
 * bounded queue dropped and counted in `<prefix>_audit_dropped_total` — a flood of forged tokens
 * costs at most a few INSERTs a second, never a write per request.
 */
export class AuditTrail {
  private readonly queue = new Map<string, Queued>();
  private readonly capacity: number;
  private readonly flushIntervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly dropped: Counter | undefined;

  constructor(private readonly options: AuditTrailOptions) {
    this.capacity = options.queueCapacity ?? DEFAULT_QUEUE_CAPACITY;
    this.flushIntervalMs = options.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS;
    if (options.registry !== undefined) {
      const prefix = options.metricsPrefix ? `${options.metricsPrefix}_` : '';
      this.dropped = new Counter({
        name: `${prefix}audit_dropped_total`,
        help: 'Audit records (access.denied) dropped because the write queue was full or the write failed',
        registers: [options.registry],
      });
      const queue = this.queue;
      new Gauge({
        name: `${prefix}audit_queue_size`,
        help: 'Distinct audit records waiting to be written',
        registers: [options.registry],
        collect() {
          this.set(queue.size);
        },
      });
    }
  }

  /** Writes one record now; with `tx`, as part of that transaction. */
  async record(record: AuditRecord, tx?: Tx): Promise<void> {
    await (tx ?? this.options.database.db).insert(this.options.table).values(values(record));
  }

  /** Queues a record for the next batch; never blocks, never throws. */
  enqueue(record: AuditRecord): void {
    const now = new Date();
    const key = JSON.stringify([record.action, record.actor, record.target, record.outcome, record.details]);
    const queued = this.queue.get(key);
    if (queued !== undefined) {
      queued.count++;
      queued.lastAt = now;
      return;
    }
    if (this.queue.size >= this.capacity) {
      this.dropped?.inc();
      return;
    }
    this.queue.set(key, { record, count: 1, firstAt: now, lastAt: now });
    if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.flush();
      }, this.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Writes everything queued so far (what GET /api/v1/audit does first, and shutdown). */
  async flush(): Promise<void> {
    // One flush at a time; a caller arriving during one waits for it, then writes what is left.
    while (this.flushing !== undefined) await this.flushing;
    if (this.queue.size === 0) return;
    const batch = [...this.queue.values()];
    this.queue.clear();
    this.flushing = this.write(batch).finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
  }

  private async write(batch: Queued[]): Promise<void> {
    for (let start = 0; start < batch.length; start += INSERT_BATCH) {
      const chunk = batch.slice(start, start + INSERT_BATCH);
      try {
        await this.options.database.db.insert(this.options.table).values(
          chunk.map(({ record, count, firstAt, lastAt }) =>
            values(
              count === 1
                ? record
                : {
                    ...record,
                    details: {
                      ...record.details,
                      count,
                      first_at: firstAt.toISOString(),
                      last_at: lastAt.toISOString(),
                    },
                  },
              firstAt,
            ),
          ),
        );
      } catch (error) {
        this.dropped?.inc(chunk.length);
        this.options.logger.warn({ err: error, records: chunk.length }, 'audit records could not be written');
      }
    }
  }

  /** Newest first, with the total for paging. Writes this instance's queued records first. */
  async list(query: AuditQuery): Promise<{ entries: AuditEntry[]; totalCount: number }> {
    await this.flush();
    const t = this.options.table;
    const conditions: SQL[] = [];
    if (query.action !== undefined) conditions.push(eq(t.action, query.action));
    if (query.actor !== undefined) conditions.push(eq(t.actor, query.actor));
    if (query.from !== undefined) conditions.push(gte(t.at, query.from));
    if (query.to !== undefined) conditions.push(lte(t.at, query.to));
    const where = conditions.length > 0 ? and(...conditions) : undefined;
    const { db } = this.options.database;
    const [rows, totals] = await Promise.all([
      db
        .select()
        .from(t)
        .where(where)
        .orderBy(desc(t.id))
        .limit(query.pageSize)
        .offset((query.page - 1) * query.pageSize),
      db.select({ total: count() }).from(t).where(where),
    ]);
    return { entries: rows, totalCount: totals[0]?.total ?? 0 };
  }

  /** Stops the timer and writes what is queued. */
  async stop(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
