import { isStoredToken, type StoredToken, type TokenStore } from "./types.ts";

/**
 * The part of a Cloudflare Workers KV namespace binding (`KVNamespace` in
 * `@cloudflare/workers-types`) that {@linkcode CloudflareKVTokenStore} uses.
 * Any binding, and miniflare's `getKVNamespace()`, fits it.
 *
 * @example A binding declared in `Env`
 * ```ts
 * import type { CloudflareKVNamespace } from "@carto/auth";
 *
 * interface Env {
 *   TOKENS: CloudflareKVNamespace; // or KVNamespace from @cloudflare/workers-types
 * }
 * ```
 */
export interface CloudflareKVNamespace {
  /** The value under `key` as text, or `null`. */
  get(key: string): Promise<string | null>;
  /** Writes `value` under `key`; `expiration` (Unix s) or `expirationTtl` (s) makes it vanish. */
  put(
    key: string,
    value: string,
    options?: { expiration?: number; expirationTtl?: number },
  ): Promise<void>;
  /** Removes `key`. */
  delete(key: string): Promise<void>;
}

/**
 * Options of {@linkcode CloudflareKVTokenStore}.
 *
 * @example Two M2M clients in one namespace
 * ```ts
 * import { CloudflareKVTokenStore, type CloudflareKVNamespace } from "@carto/auth";
 *
 * declare const TOKENS: CloudflareKVNamespace;
 * const reports = new CloudflareKVTokenStore(TOKENS, { prefix: "reports:" });
 * const imports = new CloudflareKVTokenStore(TOKENS, { prefix: "imports:" });
 * ```
 */
export interface CloudflareKVTokenStoreOptions {
  /**
   * Put before every key, default `"carto-auth:"` (so the M2M token lives
   * under `carto-auth:m2m`). Give each M2M client its own prefix when several
   * share one namespace.
   */
  prefix?: string;
}

/** Cloudflare KV refuses expiration times less than 60 seconds away. */
export const KV_MIN_TTL_SECONDS = 60;

/**
 * Keeps tokens in a Cloudflare Workers KV namespace, so that every isolate of
 * a worker (and every other worker bound to the namespace) uses the token one
 * of them obtained instead of asking for a new one on each cold start.
 *
 * Each token is written with a KV expiration at its own expiry, so stale
 * tokens vanish by themselves. KV keeps a key for at least 60 seconds: a
 * token closer than that to its expiry (or past it) is kept for 60 seconds,
 * and `CartoAuth` does not use it. KV is eventually consistent: another
 * location may take up to a minute to see a new token, and may obtain one of
 * its own meanwhile.
 *
 * A value under the key that is not a token reads as `undefined`; errors of
 * the binding itself are passed on (`CartoAuth` then obtains a new token).
 *
 * @example A worker that shares its M2M token through KV
 * ```ts
 * import { CartoAuth, CloudflareKVTokenStore } from "@carto/auth";
 * import type { CloudflareKVNamespace } from "@carto/auth";
 *
 * interface Env {
 *   TOKENS: CloudflareKVNamespace;
 *   CARTO_API_BASE_URL: string;
 *   CARTO_CLIENT_ID: string;
 *   CARTO_CLIENT_SECRET: string;
 * }
 *
 * let auth: CartoAuth | undefined; // one per isolate
 *
 * export default {
 *   async fetch(_request: Request, env: Env): Promise<Response> {
 *     auth ??= new CartoAuth({
 *       mode: "m2m",
 *       apiBaseUrl: env.CARTO_API_BASE_URL,
 *       clientId: env.CARTO_CLIENT_ID,
 *       clientSecret: env.CARTO_CLIENT_SECRET,
 *       store: new CloudflareKVTokenStore(env.TOKENS),
 *     });
 *     return await auth.fetch("/v3/sql/carto_dw/query?q=select%201");
 *   },
 * };
 * ```
 */
export class CloudflareKVTokenStore implements TokenStore {
  readonly #kv: CloudflareKVNamespace;
  readonly #prefix: string;

  /** A store over the KV namespace binding `namespace`. */
  constructor(
    namespace: CloudflareKVNamespace,
    options: CloudflareKVTokenStoreOptions = {},
  ) {
    this.#kv = namespace;
    this.#prefix = options.prefix ?? "carto-auth:";
  }

  /** The KV key that holds the token under `key`, e.g. `carto-auth:m2m`. */
  keyFor(key: string): string {
    return this.#prefix + key;
  }

  /** The token under `key`; `undefined` when there is none or the value is not a token. */
  async get(key: string): Promise<StoredToken | undefined> {
    const text = await this.#kv.get(this.keyFor(key));
    if (text === null) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return undefined;
    }
    return isStoredToken(value) ? value : undefined;
  }

  /** Writes `token` under `key`, to expire with it (but no sooner than KV allows). */
  async set(key: string, token: StoredToken): Promise<void> {
    await this.#kv.put(
      this.keyFor(key),
      JSON.stringify(token),
      kvExpiration(token.expiration, Date.now() / 1000),
    );
  }

  /** Removes the token under `key`; no error when there is none. */
  async delete(key: string): Promise<void> {
    await this.#kv.delete(this.keyFor(key));
  }
}

/**
 * The KV put options that make a token expiring at `expiration` vanish then:
 * the absolute `expiration` when it is comfortably beyond KV's minimum (so a
 * clock a little apart from KV's cannot make the write fail), else
 * `expirationTtl` of at least 60 seconds.
 */
function kvExpiration(
  expiration: number,
  now: number,
): { expiration?: number; expirationTtl?: number } | undefined {
  if (!Number.isFinite(expiration)) return undefined;
  const ttl = Math.ceil(expiration - now);
  if (ttl >= KV_MIN_TTL_SECONDS + 30) {
    return { expiration: Math.ceil(expiration) };
  }
  return { expirationTtl: Math.max(KV_MIN_TTL_SECONDS, ttl) };
}
