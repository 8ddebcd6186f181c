import type { Database } from './database.js';
import { unavailableOrOriginal } from './errors.js';

/**
 * The transaction handle use cases write through: a drizzle transaction. Raw SQL inside the
 * same transaction goes through `tx.execute(sql\`…\`)` (drizzle-orm's `sql` template).
 */
export type Tx = Parameters<Parameters<Database['db']['transaction']>[0]>[0];

/**
 * Runs `fn` in one transaction: committed when `fn` resolves, rolled back when it throws.
 * A database that cannot be reached surfaces as AppError('unavailable'); every other error
 * (including constraint violations, for the caller to interpret) is rethrown unchanged.
 */
export async function withTransaction<T>(database: Database, fn: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    return await database.db.transaction(fn);
  } catch (error) {
    throw unavailableOrOriginal(error);
  }
}
