import type { Database } from './database.js';

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

/**
 * Wakes the listeners of `channel` (payload-free NOTIFY on the pool), coalesced per instance. Call
 * it after the commit, not inside the transaction: PostgreSQL serialises the commits of notifying
 * transactions, which capped durable writes at about 44% of plain INSERTs.
 */
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
