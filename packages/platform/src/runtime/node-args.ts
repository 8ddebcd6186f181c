/**
 * How a service's Node process is started (launcher, bench, package `start` scripts):
 * tsx as a loader rather than its CLI (one process, signals reach the server), and
 * AsyncLocalStorage on async context frames instead of async_hooks, whose promise hooks cost every
 * request ~10% CPU on the hot paths (request ids, tracing context). Node ≥ 22.7 has the flag;
 * Node 24 makes it the default.
 */
export const SERVICE_NODE_ARGS: readonly string[] = ['--experimental-async-context-frame', '--import', 'tsx'];
