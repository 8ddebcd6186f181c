/**
 * `compute(key)` made once per key object and kept as long as the key lives (a WeakMap): for
 * values answered many times from the same object — a cached config entry to every GET, one change
 * to every WatchConfig stream (issue 13). The key must not change while it is in use (values,
 * replaced whole).
 */
export function perObject<K extends object, V>(compute: (key: K) => V): (key: K) => V {
  const made = new WeakMap<K, V>();
  return (key) => {
    if (made.has(key)) return made.get(key) as V;
    const value = compute(key);
    made.set(key, value);
    return value;
  };
}
