import { type LeaseOps, type LeaseOptions, withLease } from "./lease.ts";
import { isStoredToken, type StoredToken, type TokenStore } from "./types.ts";

/**
 * Sends one Redis command, e.g. `["SET", "k", "v", "NX"]`, and resolves
 * with its reply (a string, a number, `null`, an array). Every client has
 * one:
 *
 * - node-redis: `(args) => client.sendCommand(args)`
 * - ioredis: `(args) => redis.call(...args)`
 * - Bun: `(args) => redis.send(args[0], args.slice(1))`
 * - Upstash (REST, for edge runtimes): a `fetch` POST of `args` as JSON
 *   (see the README)
 *
 * @example node-redis
 * ```ts ignore
 * import { createClient } from "redis";
 * import type { RedisSend } from "@carto/auth";
 *
 * const client = await createClient({ url: "redis://localhost:6379" }).connect();
 * const send: RedisSend = (args) => client.sendCommand(args);
 * ```
 */
export type RedisSend = (args: string[]) => Promise<unknown>;

/**
 * Options of {@linkcode RedisTokenStore}.
 *
 * @example Two M2M clients in one Redis
 * ```ts
 * import { RedisTokenStore, type RedisSend } from "@carto/auth";
 *
 * declare const send: RedisSend;
 * const reports = new RedisTokenStore(send, { prefix: "reports:" });
 * const imports = new RedisTokenStore(send, { prefix: "imports:" });
 * ```
 */
export interface RedisTokenStoreOptions {
  /**
   * Put before every key, default `"carto-auth:"` (so the M2M token lives
   * under `carto-auth:m2m` and its lock under `carto-auth:m2m:lock`). Give
   * each M2M client its own prefix when several share one database.
   */
  prefix?: string;
  /** How the lock's lease behaves; see {@linkcode LeaseOptions}. */
  lease?: LeaseOptions;
}

/** Tokens are kept at least this long, like the other shared stores. */
const MIN_KEEP_MS = 60_000;

// Compare-and-act on the lease key: only its owner may extend or end it.
const RENEW_SCRIPT =
  'if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) else return 0 end';
const RELEASE_SCRIPT =
  'if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end';

/**
 * Keeps tokens in Redis (or Valkey, Upstash, any server that speaks its
 * commands), so that every process, container and machine of a fleet uses
 * the token one of them obtained, and only one of them renews it.
 *
 * Each token is a JSON string that expires in Redis with the token (kept at
 * least 60 seconds). The lock is a lease: `SET <key>:lock <owner> NX PX`,
 * renewed by its holder while it works and deleted at the end, both only if
 * it still holds the owner's id (a Lua script); a holder that dies lets it
 * expire, and a waiter takes over.
 *
 * A value under the key that is not a token reads as `undefined`; errors of
 * `send` are passed on (`CartoAuth` then obtains a token without the store).
 *
 * @example A Node service with node-redis
 * ```ts ignore
 * import { createClient } from "redis";
 * import { CartoAuth, RedisTokenStore } from "@carto/auth";
 *
 * const redis = await createClient({ url: process.env.REDIS_URL }).connect();
 * const auth = await CartoAuth.fromM2M("./carto_credentials.json", {
 *   store: new RedisTokenStore((args) => redis.sendCommand(args)),
 * });
 * ```
 */
export class RedisTokenStore implements TokenStore {
  readonly #send: RedisSend;
  readonly #prefix: string;
  readonly #lease?: LeaseOptions;

  /** A store that sends its commands through `send`. */
  constructor(send: RedisSend, options: RedisTokenStoreOptions = {}) {
    if (typeof send !== "function") {
      throw new TypeError(
        "RedisTokenStore needs a function that sends one Redis command, e.g. (args) => client.sendCommand(args).",
      );
    }
    this.#send = send;
    this.#prefix = options.prefix ?? "carto-auth:";
    this.#lease = options.lease;
  }

  /** The Redis key that holds the token under `key`, e.g. `carto-auth:m2m`. */
  keyFor(key: string): string {
    return this.#prefix + key;
  }

  /** The token under `key`; `undefined` when there is none or the value is not a token. */
  async get(key: string): Promise<StoredToken | undefined> {
    const text = replyText(await this.#send(["GET", this.keyFor(key)]));
    if (text === undefined) return undefined;
    try {
      const value: unknown = JSON.parse(text);
      return isStoredToken(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }

  /** Writes `token` under `key`, to expire with it (kept at least 60 s). */
  async set(key: string, token: StoredToken): Promise<void> {
    const left = token.expiration * 1000 - Date.now();
    const expiry = Number.isFinite(left)
      ? ["PX", String(Math.max(MIN_KEEP_MS, Math.ceil(left)))]
      : [];
    await this.#send([
      "SET",
      this.keyFor(key),
      JSON.stringify(token),
      ...expiry,
    ]);
  }

  /** Removes the token under `key`; no error when there is none. */
  async delete(key: string): Promise<void> {
    await this.#send(["DEL", this.keyFor(key)]);
  }

  /** Runs `fn` holding the lease `<key>:lock`, so one process of the fleet renews at a time. */
  lock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const lockKey = `${this.keyFor(key)}:lock`;
    const send = this.#send;
    const ops: LeaseOps = {
      acquire: async (owner, ttlMs) =>
        replyText(
          await send(["SET", lockKey, owner, "NX", "PX", String(ttlMs)]),
        ) === "OK",
      renew: async (owner, ttlMs) =>
        Number(
          await send([
            "EVAL",
            RENEW_SCRIPT,
            "1",
            lockKey,
            owner,
            String(ttlMs),
          ]),
        ) === 1,
      release: async (owner) => {
        await send(["EVAL", RELEASE_SCRIPT, "1", lockKey, owner]);
      },
    };
    return withLease(
      ops,
      fn,
      this.#lease,
      `"${key}" (Redis lock ${lockKey})`,
    );
  }
}

/** A string reply as text (clients may give bytes); `undefined` for nil and the rest. */
function replyText(reply: unknown): string | undefined {
  if (typeof reply === "string") return reply;
  if (reply instanceof Uint8Array) return new TextDecoder().decode(reply);
  return undefined;
}
