/**
 * One renewal at a time per token store and key within this process, for
 * every store: `CartoAuth` instances that share a store then share one
 * renewal (the later ones find the new token in the store) instead of
 * spending one rotating refresh token twice. Across processes and isolates
 * that is the store's own `lock`.
 */

const tails = new WeakMap<object, Map<string, Promise<void>>>();

/**
 * Runs `fn` once every earlier `fn` of the same `store` and `key` in this
 * process has settled.
 *
 * @example
 * ```ts ignore
 * const token = await withProcessLock(store, "oauth", () => renewFromStoreOrServer());
 * ```
 */
export function withProcessLock<T>(
  store: object,
  key: string,
  fn: () => Promise<T>,
): Promise<T> {
  let byKey = tails.get(store);
  if (!byKey) tails.set(store, byKey = new Map());
  const queue = byKey;
  const run = (queue.get(key) ?? Promise.resolve()).then(() => fn());
  const tail = run.then(() => {}, () => {});
  queue.set(key, tail);
  // The last one out leaves nothing behind.
  tail.then(() => {
    if (queue.get(key) === tail) queue.delete(key);
  });
  return run;
}
