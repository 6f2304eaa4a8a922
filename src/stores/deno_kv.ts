import { type LeaseOps, type LeaseOptions, withLease } from "./lease.ts";
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
  /** The entry under `key`; its `value` and `versionstamp` are `null` when there is none. */
  get(
    key: readonly DenoKvKeyPart[],
  ): Promise<{ value: unknown; versionstamp: string | null }>;
  /** Writes `value` under `key`; `expireIn` (ms) makes it vanish. */
  set(
    key: readonly DenoKvKeyPart[],
    value: unknown,
    options?: { expireIn?: number },
  ): Promise<unknown>;
  /** Removes `key`. */
  delete(key: readonly DenoKvKeyPart[]): Promise<void>;
  /** A transaction: its checks and writes commit together or not at all. */
  atomic(): DenoKvAtomic;
}

/**
 * The part of `Deno.AtomicOperation` that the lock of
 * {@linkcode DenoKVTokenStore} uses.
 *
 * @example
 * ```ts
 * import type { DenoKvAtomic } from "@carto/auth";
 *
 * const kv = await Deno.openKv();
 * const op: DenoKvAtomic = kv.atomic();
 * ```
 */
export interface DenoKvAtomic {
  /** Commits only if `key` still has `versionstamp` (`null`: does not exist). */
  check(
    ...checks: { key: readonly DenoKvKeyPart[]; versionstamp: string | null }[]
  ): DenoKvAtomic;
  /** Writes `value` under `key` on commit. */
  set(
    key: readonly DenoKvKeyPart[],
    value: unknown,
    options?: { expireIn?: number },
  ): DenoKvAtomic;
  /** Removes `key` on commit. */
  delete(key: readonly DenoKvKeyPart[]): DenoKvAtomic;
  /** `ok` is false when a check failed and nothing was written. */
  commit(): Promise<{ ok: boolean }>;
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
  /** How the lock's lease behaves; see {@linkcode LeaseOptions}. */
  lease?: LeaseOptions;
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
 * The lock is a lease under `[...prefix, key, "lock"]`: taken and renewed
 * with atomic check-and-set (and `expireIn`), so one process or isolate
 * renews at a time; a holder that dies stops renewing and a waiter takes
 * over once its lease has run out.
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
  readonly #lease?: LeaseOptions;

  /** A store over the open database `kv`. */
  constructor(kv: DenoKv, options: DenoKVTokenStoreOptions = {}) {
    this.#kv = kv;
    this.#prefix = options.prefix ?? ["carto-auth"];
    this.#lease = options.lease;
  }

  /** The Deno KV key that holds the token under `key`, e.g. `["carto-auth", "m2m"]`. */
  keyFor(key: string): DenoKvKeyPart[] {
    return [...this.#prefix, key];
  }

  /** The token under `key`; `undefined` when there is none or the value is not a token. */
  async get(key: string): Promise<StoredToken | undefined> {
    const { value } = await whileBusy(() => this.#kv.get(this.keyFor(key)));
    return isStoredToken(value) ? { ...value } : undefined;
  }

  /** Writes `token` under `key`, to expire with it (kept at least 60 s). */
  async set(key: string, token: StoredToken): Promise<void> {
    const left = (token.expiration * 1000) - Date.now();
    // Only the fields that are set: what `get` returns equals what was set.
    const value = Object.fromEntries(
      Object.entries(token).filter(([, v]) => v !== undefined),
    );
    await whileBusy(() =>
      this.#kv.set(
        this.keyFor(key),
        value,
        Number.isFinite(left)
          ? { expireIn: Math.max(MIN_KEEP_MS, Math.ceil(left)) }
          : undefined,
      )
    );
  }

  /** Removes the token under `key`; no error when there is none. */
  async delete(key: string): Promise<void> {
    await whileBusy(() => this.#kv.delete(this.keyFor(key)));
  }

  /** Runs `fn` holding the lease `[...prefix, key, "lock"]`, so one process or isolate renews at a time. */
  lock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const lockKey = [...this.keyFor(key), "lock"];
    return withLease(
      kvLease(this.#kv, lockKey),
      fn,
      this.#lease,
      `"${key}" (Deno KV lock ${String(lockKey.map(String))})`,
    );
  }
}

/** A lease value: who holds it and until when (Unix ms; the key's `expireIn` is only a clean-up). */
interface Lease {
  owner: string;
  until: number;
}

function isLease(value: unknown): value is Lease {
  const v = value as Lease | null;
  return typeof v?.owner === "string" && typeof v.until === "number";
}

/** Lease operations on `key`, each a read then a versionstamp-checked write. */
function kvLease(kv: DenoKv, key: DenoKvKeyPart[]): LeaseOps {
  const write = (
    entry: { versionstamp: string | null },
    owner: string,
    ttlMs: number,
  ) =>
    kv.atomic().check({ key, versionstamp: entry.versionstamp })
      .set(key, { owner, until: Date.now() + ttlMs }, { expireIn: ttlMs })
      .commit().then((r) => r.ok);
  return {
    async acquire(owner, ttlMs) {
      try {
        const entry = await kv.get(key);
        const held = isLease(entry.value) && entry.value.until > Date.now();
        return !held && await write(entry, owner, ttlMs);
      } catch (e) {
        // Another writer had the file: a lost race, tried again by the caller.
        if (isBusy(e)) return false;
        throw e;
      }
    },
    renew: (owner, ttlMs) =>
      whileBusy(async () => {
        const entry = await kv.get(key);
        if (!isLease(entry.value) || entry.value.owner !== owner) return false;
        return await write(entry, owner, ttlMs);
      }),
    release: (owner) =>
      whileBusy(async () => {
        const entry = await kv.get(key);
        if (!isLease(entry.value) || entry.value.owner !== owner) return;
        await kv.atomic().check({ key, versionstamp: entry.versionstamp })
          .delete(key).commit();
      }),
  };
}

/**
 * A local KV file refuses a write while another process writes
 * ("database is locked"); Deno Deploy never does.
 */
function isBusy(e: unknown): boolean {
  return /database is locked/i.test((e as Error)?.message ?? "");
}

/** Runs `op` again while the KV file is busy, for up to about a second. */
async function whileBusy<T>(op: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await op();
    } catch (e) {
      if (!isBusy(e) || attempt >= 100) throw e;
      await new Promise((r) => setTimeout(r, 2 + Math.random() * 10));
    }
  }
}
