import type { StoredToken, TokenStore } from "./types.ts";

/**
 * Keeps tokens in memory for the life of the process or isolate. The default
 * store where there is no file system (workers, browsers).
 *
 * @example
 * ```ts
 * import { CartoAuth, MemoryTokenStore } from "@carto/auth";
 *
 * const auth = await CartoAuth.fromM2M(
 *   { apiBaseUrl: "https://gcp-us-east1.api.carto.com", clientId: "id", clientSecret: "secret" },
 *   { store: new MemoryTokenStore() },
 * );
 * ```
 */
export class MemoryTokenStore implements TokenStore {
  #tokens = new Map<string, StoredToken>();

  /** Returns a copy of the token under `key`. */
  get(key: string): Promise<StoredToken | undefined> {
    const token = this.#tokens.get(key);
    return Promise.resolve(token && { ...token });
  }

  /** Keeps a copy of `token` under `key`. */
  set(key: string, token: StoredToken): Promise<void> {
    this.#tokens.set(key, { ...token });
    return Promise.resolve();
  }

  /** Forgets the token under `key`. */
  delete(key: string): Promise<void> {
    this.#tokens.delete(key);
    return Promise.resolve();
  }
}
