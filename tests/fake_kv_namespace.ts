/**
 * A stand-in for a Cloudflare KV namespace that behaves like the real one
 * (text values, expirations, the 60 s minimum TTL, `list`), for the store
 * tests outside workerd.
 *
 * @module
 */

/** Options of `put` on a Cloudflare KV namespace. */
export interface KVPutOptions {
  expiration?: number;
  expirationTtl?: number;
}

/**
 * An in-memory Cloudflare KV namespace with KV's rules: string values,
 * `expiration` (Unix s) and `expirationTtl` (s), both refused when less than
 * 60 s away (with KV's own messages), expired keys invisible, and `list`
 * showing each key's expiration. `clock` (Unix seconds) can be moved.
 */
export class FakeKVNamespace {
  readonly #entries = new Map<string, { value: string; expiration?: number }>();
  /** The namespace's clock, Unix seconds; tests move it forward. */
  clock = Date.now() / 1000;
  /** Every `put`, oldest first. */
  readonly puts: { key: string; options?: KVPutOptions }[] = [];

  get(key: string): Promise<string | null> {
    return Promise.resolve(this.#live(key)?.value ?? null);
  }

  put(key: string, value: string, options?: KVPutOptions): Promise<void> {
    if (typeof value !== "string") {
      return Promise.reject(
        new TypeError("KV put() accepts only strings here"),
      );
    }
    let expiration: number | undefined;
    if (options?.expirationTtl !== undefined) {
      if (options.expirationTtl < 60) {
        return Promise.reject(
          new Error(
            `KV PUT failed: 400 Invalid expiration_ttl of ${options.expirationTtl}. Expiration TTL must be at least 60.`,
          ),
        );
      }
      expiration = this.clock + options.expirationTtl;
    } else if (options?.expiration !== undefined) {
      if (options.expiration < this.clock + 60) {
        return Promise.reject(
          new Error(
            `KV PUT failed: 400 Invalid expiration of ${options.expiration}. Expiration times must be at least 60 seconds in the future.`,
          ),
        );
      }
      expiration = options.expiration;
    }
    this.puts.push({ key, options });
    this.#entries.set(key, { value, expiration });
    return Promise.resolve();
  }

  delete(key: string): Promise<void> {
    this.#entries.delete(key);
    return Promise.resolve();
  }

  list(
    options: { prefix?: string } = {},
  ): Promise<{ keys: { name: string; expiration?: number }[] }> {
    const keys = [...this.#entries.keys()]
      .filter((name) => name.startsWith(options.prefix ?? ""))
      .filter((name) => this.#live(name))
      .sort()
      .map((name) => ({
        name,
        expiration: this.#entries.get(name)!.expiration,
      }));
    return Promise.resolve({ keys });
  }

  #live(key: string) {
    const entry = this.#entries.get(key);
    if (entry?.expiration !== undefined && entry.expiration <= this.clock) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
