/**
 * The CARTO Data Warehouse credentials of a `CartoAuth`, shared through its
 * token store under their own key (`<mode>_dw`) like the access token: one
 * DW token request per token lifetime for a whole fleet, renewed under the
 * store's lock when it has one.
 *
 * CARTO does not say when a DW token expires (about an hour), so the stored
 * entry expires `ttlMs` after it was fetched. It is kept as a StoredToken:
 * `accessToken` is the Google token, `projectId` the DW project, and
 * `clientId` the CARTO identity (the `sub` of the access token) it belongs to.
 */
import type { DwCredentials } from "../dw/credentials.ts";
import { jwtClaims } from "../jwt.ts";
import type { StoredToken, TokenStore } from "../stores/types.ts";
import { withProcessLock } from "./process_lock.ts";

/** What {@linkcode SharedDwCredentials} needs. */
export interface SharedDwOptions {
  /** The store key, e.g. `m2m_dw`. */
  key: string;
  /** The token store; none when caching is off. */
  store?: TokenStore;
  /** How long a DW token is used after it was fetched. */
  ttlMs: number;
  /** A fresh CARTO access token (whose `sub` owns the DW token). */
  accessToken(): Promise<string>;
  /** The API base URL the DW token was fetched from. */
  apiBaseUrl(): string | undefined;
  /** Asks CARTO for new DW credentials. */
  fetchFresh(): Promise<DwCredentials>;
}

/** Holds the DW credentials, renewing them once for all concurrent callers. */
export class SharedDwCredentials {
  readonly #o: SharedDwOptions;
  #held?: StoredToken;
  #pending?: Promise<StoredToken>;

  constructor(options: SharedDwOptions) {
    this.#o = options;
  }

  /** Fresh credentials; with `replaced`, other than those (refused by BigQuery, or too old for its client). */
  async get(replaced?: DwCredentials): Promise<DwCredentials> {
    const held = this.#held;
    const bad = replaced?.token;
    if (held && isFresh(held) && held.accessToken !== bad) {
      return credentials(held);
    }
    let entry = await (this.#pending ??= this.#obtain(bad).finally(() => {
      this.#pending = undefined;
    }));
    // A renewal already under way may bring the token being replaced.
    if (entry.accessToken === bad) entry = await this.#obtain(bad);
    return credentials(entry);
  }

  /** Forgets the credentials here and in the store (on logout). */
  async forget(): Promise<void> {
    this.#held = undefined;
    await this.#o.store?.delete(this.#o.key);
  }

  async #obtain(replaced?: string): Promise<StoredToken> {
    const owner = jwtClaims(await this.#o.accessToken())?.sub;
    const base = this.#o.apiBaseUrl();
    const { store, key } = this.#o;
    const read = async () => {
      const entry = await store?.get(key).catch(() => undefined);
      const usable = entry && typeof owner === "string" &&
        entry.clientId === owner && entry.apiBaseUrl === base &&
        typeof entry.projectId === "string" &&
        entry.accessToken !== replaced && isFresh(entry);
      return usable ? entry : undefined;
    };
    const renew = async () => {
      const stored = await read();
      if (stored) return stored;
      const fresh = await this.#o.fetchFresh();
      const entry: StoredToken = {
        accessToken: fresh.token,
        expiration: (Date.now() + this.#o.ttlMs) / 1000,
        apiBaseUrl: base,
        clientId: typeof owner === "string" ? owner : undefined,
        projectId: fresh.projectId,
      };
      // Shared only when it is known whose it is.
      if (entry.clientId) await store?.set(key, entry).catch(() => {});
      return entry;
    };
    // A DW token already in the store needs no lock: one read. Else one
    // renewal at a time in this process, and in the fleet under the store's lock.
    const entry = (await read()) ?? (store
      ? await withProcessLock(
        store,
        key,
        () => store.lock ? store.lock(key, renew) : renew(),
      )
      : await renew());
    this.#held = entry;
    return entry;
  }
}

function isFresh(entry: StoredToken): boolean {
  return entry.expiration * 1000 > Date.now();
}

function credentials(entry: StoredToken): DwCredentials {
  return {
    projectId: entry.projectId!,
    token: entry.accessToken,
    expiration: entry.expiration,
  };
}
