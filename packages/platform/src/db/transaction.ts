import type { Database } from './database.js';
import { unavailableOrOriginal } from './errors.js';
import { collectWakeUps, wakeUp } from './wake-up.js';

/**
 * The transaction handle use cases write through: a drizzle transaction. Raw SQL inside the
 * same transaction goes through `tx.execute(sql\`…\`)` (drizzle-orm's `sql` template).
 */
export type Tx = Parameters<Parameters<Database['db']['transaction']>[0]>[0];

/**
 * Runs `fn` in one transaction: committed when `fn` resolves, rolled back when it throws.
 * A database that cannot be reached surfaces as AppError('unavailable'); every other error
 * (including constraint violations, for the caller to interpret) is rethrown unchanged.
 * Wake-ups requested with notifyAfterCommit are sent once the commit has succeeded.
 */
export async function withTransaction<T>(database: Database, fn: (tx: Tx) => Promise<T>): Promise<T> {
  let wakeUps: Set<string> | undefined;
  let result: T;
  try {
    result = await database.db.transaction((tx) => {
      wakeUps = collectWakeUps(tx);
      return fn(tx);
    });
  } catch (error) {
    throw unavailableOrOriginal(error);
  }
  for (const channel of wakeUps ?? []) wakeUp(database, channel);
  return result;
}
