import { isStoredToken, type StoredToken, type TokenStore } from "./types.ts";

/**
 * One part of a Deno KV key (`Deno.KvKeyPart`).
 *
 * @example
 * ```ts
 * import type { DenoKvKeyPart } from "@carto/auth";
 *
 * const prefix: DenoKvKeyPart[] = ["apps", "reports", 1];
 * ```
 */
export type DenoKvKeyPart =
  | Uint8Array
  | string
  | number
  | bigint
  | boolean
  | symbol;

/**
 * The part of `Deno.Kv` that {@linkcode DenoKVTokenStore} uses, typed
 * structurally so that this module loads where there is no `Deno`.
 * `Deno.Kv` fits it.
 *
 * @example
 * ```ts
 * import type { DenoKv } from "@carto/auth";
 *
 * const kv: DenoKv = await Deno.openKv();
 * ```
 */
export interface DenoKv {
  /** The entry under `key`; its `value` is `null` when there is none. */
  get(key: readonly DenoKvKeyPart[]): Promise<{ value: unknown }>;
  /** Writes `value` under `key`; `expireIn` (ms) makes it vanish. */
  set(
    key: readonly DenoKvKeyPart[],
    value: unknown,
    options?: { expireIn?: number },
  ): Promise<unknown>;
  /** Removes `key`. */
  delete(key: readonly DenoKvKeyPart[]): Promise<void>;
}

/**
 * Options of {@linkcode DenoKVTokenStore}.
 *
 * @example Two M2M clients in one database
 * ```ts
 * import { DenoKVTokenStore } from "@carto/auth";
 *
 * const kv = await Deno.openKv();
 * const reports = new DenoKVTokenStore(kv, { prefix: ["carto-auth", "reports"] });
 * const imports = new DenoKVTokenStore(kv, { prefix: ["carto-auth", "imports"] });
 * ```
 */
export interface DenoKVTokenStoreOptions {
  /**
   * Put before every key, default `["carto-auth"]` (so the M2M token lives
   * under `["carto-auth", "m2m"]`). Give each M2M client its own prefix when
   * several share one database.
   */
  prefix?: readonly DenoKvKeyPart[];
}

/** Tokens are kept at least this long, like {@linkcode CloudflareKVTokenStore}. */
const MIN_KEEP_MS = 60_000;

/**
 * Keeps tokens in Deno KV (`Deno.openKv()`), so that every isolate of a Deno
 * Deploy app, or every process sharing a KV file, uses the token one of them
 * obtained. Each token is written with `expireIn` set to its remaining
 * lifetime (at least 60 seconds), so stale tokens vanish by themselves; Deno
 * deletes expired keys lazily, and `CartoAuth` never uses an expired token it
 * still reads.
 *
 * A value under the key that is not a token reads as `undefined`; errors of
 * the database itself are passed on (`CartoAuth` then obtains a new token).
 * Outside Deno Deploy, `Deno.openKv` needs `--unstable-kv` (or
 * `"unstable": ["kv"]` in `deno.json`).
 *
 * @example A Deno Deploy app
 * ```ts
 * import { CartoAuth, DenoKVTokenStore } from "@carto/auth";
 *
 * const auth = new CartoAuth({
 *   mode: "m2m",
 *   apiBaseUrl: Deno.env.get("CARTO_API_BASE_URL"),
 *   clientId: Deno.env.get("CARTO_CLIENT_ID"),
 *   clientSecret: Deno.env.get("CARTO_CLIENT_SECRET"),
 *   store: new DenoKVTokenStore(await Deno.openKv()),
 * });
 * Deno.serve(() => auth.fetch("/v3/sql/carto_dw/query?q=select%201"));
 * ```
 */
export class DenoKVTokenStore implements TokenStore {
  readonly #kv: DenoKv;
  readonly #prefix: readonly DenoKvKeyPart[];

  /** A store over the open database `kv`. */
  constructor(kv: DenoKv, options: DenoKVTokenStoreOptions = {}) {
    this.#kv = kv;
    this.#prefix = options.prefix ?? ["carto-auth"];
  }

  /** The Deno KV key that holds the token under `key`, e.g. `["carto-auth", "m2m"]`. */
  keyFor(key: string): DenoKvKeyPart[] {
    return [...this.#prefix, key];
  }

  /** The token under `key`; `undefined` when there is none or the value is not a token. */
  async get(key: string): Promise<StoredToken | undefined> {
    const { value } = await this.#kv.get(this.keyFor(key));
    return isStoredToken(value) ? { ...value } : undefined;
  }

  /** Writes `token` under `key`, to expire with it (kept at least 60 s). */
  async set(key: string, token: StoredToken): Promise<void> {
    const left = (token.expiration * 1000) - Date.now();
    await this.#kv.set(
      this.keyFor(key),
      // Only the fields that are set: what `get` returns equals what was set.
      Object.fromEntries(
        Object.entries(token).filter(([, v]) => v !== undefined),
      ),
      Number.isFinite(left)
        ? { expireIn: Math.max(MIN_KEEP_MS, Math.ceil(left)) }
        : undefined,
    );
  }

  /** Removes the token under `key`; no error when there is none. */
  async delete(key: string): Promise<void> {
    await this.#kv.delete(this.keyFor(key));
  }
}
