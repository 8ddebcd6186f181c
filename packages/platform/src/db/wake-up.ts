import { sql } from 'drizzle-orm';
import type { Database } from './database.js';
import type { Tx } from './transaction.js';

/**
 * Sends at most one NOTIFY of a channel at a time: a request while one is in flight is folded into
 * a single follow-up sent after it, so a burst of commits costs one or two NOTIFYs, and every
 * commit is still followed by a NOTIFY sent after it. Failures are dropped: listeners keep a safety
 * poll, so a lost wake-up only delays them.
 */
export class CoalescedNotifier {
  private inFlight = false;
  private again = false;

  constructor(private readonly send: () => Promise<unknown>) {}

  request(): void {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.send();
      } catch {
        // See the class comment: the listeners' poll covers a wake-up that could not be sent.
      }
    } while (this.again);
    this.inFlight = false;
  }
}

const notifiers = new WeakMap<Database, Map<string, CoalescedNotifier>>();
/** Channels to wake once the transaction opened by withTransaction has committed. */
const afterCommit = new WeakMap<Tx, Set<string>>();

/** Wakes the listeners of `channel` (payload-free NOTIFY on the pool), coalesced per instance. */
export function wakeUp(database: Database, channel: string): void {
  let byChannel = notifiers.get(database);
  if (byChannel === undefined) {
    byChannel = new Map();
    notifiers.set(database, byChannel);
  }
  let notifier = byChannel.get(channel);
  if (notifier === undefined) {
    notifier = new CoalescedNotifier(() => database.sql`select pg_notify(${channel}, '')`);
    byChannel.set(channel, notifier);
  }
  notifier.request();
}

/**
 * Asks for a wake-up of `channel` once `tx` commits (nothing if it rolls back). Outside the
 * transaction on purpose: PostgreSQL serialises the commits of notifying transactions, which
 * capped durable writes at about 44% of plain INSERTs. For a transaction withTransaction did not
 * open (a nested savepoint), the NOTIFY is sent inside it instead, delivered on commit.
 */
export async function notifyAfterCommit(tx: Tx, channel: string): Promise<void> {
  const channels = afterCommit.get(tx);
  if (channels !== undefined) {
    channels.add(channel);
    return;
  }
  await tx.execute(sql`select pg_notify(${channel}, '')`);
}

/** For withTransaction: collects the wake-ups `tx` asks for. */
export function collectWakeUps(tx: Tx): Set<string> {
  const channels = new Set<string>();
  afterCommit.set(tx, channels);
  return channels;
}
