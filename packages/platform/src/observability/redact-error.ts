/**
 * Errors as logs and spans may carry them: without SQL parameter values (issue 10 finding 11).
 * Driver errors hold what a request wrote: postgres.js attaches `parameters`/`args` (and `query`),
 * PostgreSQL's `detail`/`where` quote row values ("Key (key)=(secret) already exists"), and
 * drizzle's DrizzleQueryError puts `params: <values>` into its message. Kept: name, message (params
 * cut), stack, SQLSTATE `code`, severity, schema/table/column/constraint names, and the cause chain
 * (redacted the same way).
 */
const KEPT_FIELDS = [
  'code',
  'severity',
  'schema_name',
  'table_name',
  'column_name',
  'constraint_name',
  'routine',
  'kind',
] as const;

const MAX_DEPTH = 8;

/** Drops what follows "params:" in a drizzle "Failed query: … params: …" message. */
function redactMessage(message: string): string {
  const at = message.indexOf('\nparams:');
  return at < 0 ? message : `${message.slice(0, at)}\nparams: [redacted]`;
}

export function redactError(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error) || depth > MAX_DEPTH) return error;
  const message = redactMessage(error.message);
  const copy =
    error instanceof AggregateError
      ? new AggregateError(
          error.errors.map((inner) => redactError(inner, depth + 1)),
          message,
        )
      : new Error(message);
  copy.name = error.name;
  copy.stack = error.stack?.replace(error.message, message);
  const source = error as unknown as Record<string, unknown>;
  const target = copy as unknown as Record<string, unknown>;
  for (const field of KEPT_FIELDS) {
    if (typeof source[field] === 'string' || typeof source[field] === 'number') target[field] = source[field];
  }
  if (error.cause !== undefined) copy.cause = redactError(error.cause, depth + 1);
  return copy;
}
