/** A token as kept by a {@linkcode TokenStore}. */
export interface StoredToken {
  /** The CARTO access token (a JWT issued by Auth0). */
  accessToken: string;
  /** When it expires, in Unix seconds (UTC). */
  expiration: number;
  /** The API base URL of the account the token belongs to. */
  apiBaseUrl?: string;
  /** OAuth refresh token, when the server issued one. */
  refreshToken?: string;
  /** The M2M client the token was issued to. */
  clientId?: string;
  /** The organization (SSO) the user logged in through, as given by the caller. */
  org?: string;
  /**
   * Set on CARTO Data Warehouse credentials, which `CartoAuth` keeps under
   * `<mode>_dw`: the DW project; `accessToken` is then the Google token and
   * `clientId` the CARTO identity (`sub`) it belongs to.
   */
  projectId?: string;
}

/**
 * Where tokens are kept between runs and shared between processes or
 * isolates. `key` is the mode, `"oauth"` or `"m2m"`, or the mode's DW
 * credentials, `"oauth_dw"` or `"m2m_dw"`.
 *
 * @example A store backed by a Map
 * ```ts
 * import type { StoredToken, TokenStore } from "@carto/auth";
 *
 * class MapStore implements TokenStore {
 *   #map = new Map<string, StoredToken>();
 *   get(key: string) { return Promise.resolve(this.#map.get(key)); }
 *   set(key: string, token: StoredToken) { this.#map.set(key, token); return Promise.resolve(); }
 *   delete(key: string) { this.#map.delete(key); return Promise.resolve(); }
 * }
 * ```
 */
export interface TokenStore {
  /** The token under `key`, or `undefined` when there is none or it cannot be read. */
  get(key: string): Promise<StoredToken | undefined>;
  /** Keeps `token` under `key`, replacing what was there. */
  set(key: string, token: StoredToken): Promise<void>;
  /** Removes the token under `key`; no error when there is none. */
  delete(key: string): Promise<void>;
  /**
   * Optional: runs `fn` while no other process renews the token under `key`
   * (`FileTokenStore` uses a lock file; `DenoKVTokenStore` and
   * `RedisTokenStore` a lease in the engine). `CartoAuth` renews under it and
   * reads the store again first, so only one of many parallel processes asks
   * for a new token.
   */
  lock?<T>(key: string, fn: () => Promise<T>): Promise<T>;
}

/** True when `value` has the shape of a {@linkcode StoredToken}. */
export function isStoredToken(value: unknown): value is StoredToken {
  if (!value || typeof value !== "object") return false;
  const t = value as Record<string, unknown>;
  const optionalString = (v: unknown) =>
    v === undefined || typeof v === "string";
  return typeof t.accessToken === "string" && t.accessToken !== "" &&
    typeof t.expiration === "number" && Number.isFinite(t.expiration) &&
    optionalString(t.apiBaseUrl) && optionalString(t.refreshToken) &&
    optionalString(t.clientId) && optionalString(t.org) &&
    optionalString(t.projectId);
}
