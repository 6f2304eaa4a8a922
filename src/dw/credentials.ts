/**
 * The DW project and Google token the client uses, renewed before they
 * expire. CARTO does not say when a DW token expires (it lasts about one
 * hour), so the client notes when it fetched one and renews it after
 * `ttlMs`, and at once when BigQuery refuses it.
 */

/** The project and Google token of the CARTO Data Warehouse. */
export interface DwCredentials {
  /** The BigQuery project id, e.g. `carto-dw-ac-xxxx`. */
  projectId: string;
  /** A Google OAuth access token for BigQuery. */
  token: string;
  /**
   * When to renew the token (Unix seconds), when it is known: credentials
   * shared through a store are older than the moment they were received.
   */
  expiration?: number;
}

/** Renew a DW token this long after it was fetched: within CARTO's hour, with room for slow queries. */
export const DEFAULT_CREDENTIALS_TTL_MS = 50 * 60_000;

/** Holds the current DW credentials and renews them, one request at a time. */
export class DwCredentialsCache {
  readonly #fetchFresh: (replaced?: DwCredentials) => Promise<DwCredentials>;
  readonly #ttlMs: number;
  #current?: { credentials: DwCredentials; renewAt: number };
  #pending?: Promise<DwCredentials>;

  constructor(
    fetchFresh: (replaced?: DwCredentials) => Promise<DwCredentials>,
    initial: DwCredentials | undefined,
    ttlMs = DEFAULT_CREDENTIALS_TTL_MS,
  ) {
    this.#fetchFresh = fetchFresh;
    this.#ttlMs = ttlMs;
    // The caller fetched `initial` just before creating the client.
    if (initial) this.#current = this.#entry(initial);
  }

  /** The project id, once known. */
  get projectId(): string | undefined {
    return this.#current?.credentials.projectId;
  }

  /** Credentials young enough to use, fetching new ones when needed. */
  get(): Promise<DwCredentials> {
    const current = this.#current;
    if (current && Date.now() < current.renewAt) {
      return Promise.resolve(current.credentials);
    }
    return this.#renew(current?.credentials);
  }

  /**
   * New credentials after BigQuery refused `refused`; when another request
   * already replaced them, the replacement is used without a new fetch.
   */
  renew(refused: DwCredentials): Promise<DwCredentials> {
    const current = this.#current?.credentials;
    if (current && current !== refused) return Promise.resolve(current);
    return this.#renew(refused);
  }

  /** Credentials other than `replaced` (too old, or refused). */
  #renew(replaced?: DwCredentials): Promise<DwCredentials> {
    this.#pending ??= this.#fetchFresh(replaced).then((credentials) => {
      this.#current = this.#entry(credentials);
      return credentials;
    }).finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  #entry(credentials: DwCredentials) {
    const renewAt = Math.min(
      Date.now() + this.#ttlMs,
      (credentials.expiration ?? Infinity) * 1000,
    );
    return { credentials, renewAt };
  }
}
