import { type LeaseOps, type LeaseOptions, withLease } from "./lease.ts";
import { isStoredToken, type StoredToken, type TokenStore } from "./types.ts";

/**
 * The part of a Durable Object's `state` (`DurableObjectState` in
 * `@cloudflare/workers-types`) that {@linkcode TokenStoreDurableObject} uses.
 *
 * @example
 * ```ts
 * import type { DurableObjectStateLike } from "@carto/auth/cloudflare";
 *
 * declare const state: DurableObjectStateLike;
 * await state.storage.put("k", { a: 1 });
 * ```
 */
export interface DurableObjectStateLike {
  /** The object's transactional storage. */
  storage: {
    get(key: string): Promise<unknown>;
    put(key: string, value: unknown): Promise<void>;
    delete(key: string): Promise<boolean>;
  };
}

/**
 * The part of a Durable Object namespace binding (`DurableObjectNamespace`)
 * that {@linkcode DurableObjectTokenStore} uses. Any binding, and
 * miniflare's `getDurableObjectNamespace()`, fits it.
 *
 * @example A binding declared in `Env`
 * ```ts
 * import type { DurableObjectNamespaceLike } from "@carto/auth/cloudflare";
 *
 * interface Env {
 *   TOKEN_STORE: DurableObjectNamespaceLike; // or DurableObjectNamespace
 * }
 * ```
 */
export interface DurableObjectNamespaceLike {
  /** The id of the object called `name`. */
  idFromName(name: string): unknown;
  /** A stub that sends requests to the object `id`. */
  get(id: never): {
    fetch(input: string, init?: RequestInit): Promise<Response>;
  };
}

/**
 * Options of {@linkcode DurableObjectTokenStore}.
 *
 * @example Two M2M clients, one object each
 * ```ts
 * import { DurableObjectTokenStore, type DurableObjectNamespaceLike } from "@carto/auth/cloudflare";
 *
 * declare const TOKEN_STORE: DurableObjectNamespaceLike;
 * const reports = new DurableObjectTokenStore(TOKEN_STORE, { name: "reports" });
 * const imports = new DurableObjectTokenStore(TOKEN_STORE, { name: "imports" });
 * ```
 */
export interface DurableObjectTokenStoreOptions {
  /**
   * Which object of the namespace holds the tokens, default `"carto-auth"`.
   * Give each M2M client its own name when several share one namespace.
   */
  name?: string;
  /** How the lock's lease behaves; see {@linkcode LeaseOptions}. */
  lease?: LeaseOptions;
}

/** One call of the store on the object, sent as the JSON body of a POST. */
type Call =
  | { op: "get" | "delete"; key: string }
  | { op: "set"; key: string; token: StoredToken }
  | { op: "renew"; key: string; owner: string; ttlMs: number }
  | {
    op: "acquire";
    key: string;
    owner: string;
    ttlMs: number;
    waitMs?: number;
  }
  | { op: "release"; key: string; owner: string };

/**
 * A Durable Object that keeps tokens and the leases of their renewals for
 * {@linkcode DurableObjectTokenStore}. One object serves every isolate of
 * every worker bound to it, in one thread, so its leases are exact and a
 * token one isolate obtained is seen at once by all (unlike KV, which takes
 * up to a minute to reach other locations). A call for a lease that is
 * taken is answered when the lease is released or runs out, so waiting
 * isolates learn of it at once instead of asking again and again.
 *
 * Export it from your worker and bind it in `wrangler.toml`:
 *
 * ```toml
 * [[durable_objects.bindings]]
 * name = "TOKEN_STORE"
 * class_name = "TokenStoreDurableObject"
 *
 * [[migrations]]
 * tag = "v1"
 * new_sqlite_classes = ["TokenStoreDurableObject"]
 * ```
 *
 * Tokens and leases live in the object's storage, so a lease outlives a
 * restart of the object (a deploy) as it outlives its holder: until it runs
 * out.
 *
 * @example The worker's module
 * ```ts
 * export { TokenStoreDurableObject } from "@carto/auth/cloudflare";
 * ```
 */
export class TokenStoreDurableObject {
  readonly #storage: DurableObjectStateLike["storage"];
  /**
   * The leases as stored, read from storage once per key: deciding on them
   * in memory makes each check and its change one step, whatever else the
   * object is doing between its storage calls.
   */
  readonly #leases = new Map<string, Lease | undefined>();
  /** Wakes the calls waiting for the lease of a key to be released. */
  readonly #waiting = new Map<string, Set<() => void>>();

  /** Called by the runtime with the object's state. */
  constructor(state: DurableObjectStateLike, _env?: unknown) {
    this.#storage = state.storage;
  }

  /** Answers one call of a {@linkcode DurableObjectTokenStore}. */
  async fetch(request: Request): Promise<Response> {
    let call: Call;
    try {
      call = await request.json();
    } catch {
      return Response.json({ error: "expected a JSON call" }, { status: 400 });
    }
    if (typeof call?.key !== "string") {
      return Response.json({ error: "no key" }, { status: 400 });
    }
    return Response.json({ result: await this.#answer(call) ?? null });
  }

  async #answer(call: Call): Promise<unknown> {
    const storage = this.#storage;
    const tokenKey = `token:${call.key}`;
    switch (call.op) {
      case "get":
        return await storage.get(tokenKey);
      case "set":
        return void await storage.put(tokenKey, call.token);
      case "delete":
        return void await storage.delete(tokenKey);
    }
    const lease = await this.#lease(call.key);
    const mine = lease?.owner === call.owner;
    const now = Date.now();
    switch (call.op) {
      case "acquire":
        if (lease && lease.until > now) {
          // Held: answered when it is released or runs out, not polled.
          if (!(call.waitMs! > 0)) return false;
          return await this.#released(call.key, now + call.waitMs!)
            ? "free"
            : false;
        }
        return await this.#setLease(call.key, call.owner, call.ttlMs);
      case "renew":
        return mine && await this.#setLease(call.key, call.owner, call.ttlMs);
      case "release":
        if (!mine) return;
        this.#leases.set(call.key, undefined);
        for (const wake of this.#waiting.get(call.key) ?? []) wake();
        return void await storage.delete(`lease:${call.key}`);
    }
  }

  async #lease(key: string): Promise<Lease | undefined> {
    if (!this.#leases.has(key)) {
      const stored = await this.#storage.get(`lease:${key}`) as Lease;
      // Another call may have read (and changed) it meanwhile.
      if (!this.#leases.has(key)) this.#leases.set(key, stored);
    }
    return this.#leases.get(key);
  }

  async #setLease(key: string, owner: string, ttlMs: number): Promise<true> {
    const lease = { owner, until: Date.now() + ttlMs };
    this.#leases.set(key, lease);
    await this.#storage.put(`lease:${key}`, lease);
    return true;
  }

  /**
   * Resolves `true` once the lease of `key` is released or has run out
   * (its holder may renew it meanwhile), `false` at `deadline`.
   */
  async #released(key: string, deadline: number): Promise<boolean> {
    let waiting = this.#waiting.get(key);
    if (!waiting) this.#waiting.set(key, waiting = new Set());
    for (;;) {
      const lease = this.#leases.get(key);
      const now = Date.now();
      if (!lease || lease.until <= now) return true;
      if (now >= deadline) return false;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          waiting.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, Math.min(lease.until, deadline) - now);
        waiting.add(wake);
      });
    }
  }
}

/** Who holds a lease, and until when (Unix ms). */
interface Lease {
  owner: string;
  until: number;
}

/**
 * Keeps tokens in a {@linkcode TokenStoreDurableObject}, so that every
 * isolate of a worker (and every worker bound to the same namespace) uses
 * the token one of them obtained, and only one of them renews it: the lock
 * is a lease held in the object, renewed while its holder works and taken
 * over when the holder is gone.
 *
 * Errors of the object are passed on (`CartoAuth` then obtains a token
 * without the store). For a simpler set-up without coordination, see
 * `CloudflareKVTokenStore`.
 *
 * @example A worker that shares its M2M token through a Durable Object
 * ```ts
 * import { CartoAuth } from "@carto/auth";
 * import {
 *   type DurableObjectNamespaceLike,
 *   DurableObjectTokenStore,
 * } from "@carto/auth/cloudflare";
 * export { TokenStoreDurableObject } from "@carto/auth/cloudflare";
 *
 * interface Env {
 *   TOKEN_STORE: DurableObjectNamespaceLike;
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
 *       store: new DurableObjectTokenStore(env.TOKEN_STORE),
 *     });
 *     return await auth.fetch("/v3/sql/carto_dw/query?q=select%201");
 *   },
 * };
 * ```
 */
export class DurableObjectTokenStore implements TokenStore {
  readonly #namespace: DurableObjectNamespaceLike;
  readonly #name: string;
  readonly #lease?: LeaseOptions;

  /** A store over the object `options.name` of the namespace binding `namespace`. */
  constructor(
    namespace: DurableObjectNamespaceLike,
    options: DurableObjectTokenStoreOptions = {},
  ) {
    if (typeof namespace?.idFromName !== "function") {
      throw new TypeError(
        "DurableObjectTokenStore needs a Durable Object namespace binding (env.TOKEN_STORE), bound to TokenStoreDurableObject in wrangler.toml.",
      );
    }
    this.#namespace = namespace;
    this.#name = options.name ?? "carto-auth";
    this.#lease = options.lease;
  }

  /** The token under `key`; `undefined` when there is none or the value is not a token. */
  async get(key: string): Promise<StoredToken | undefined> {
    const value = await this.#call({ op: "get", key });
    return isStoredToken(value) ? value : undefined;
  }

  /** Keeps `token` under `key`. */
  async set(key: string, token: StoredToken): Promise<void> {
    // JSON drops the fields that are undefined: what `get` returns equals what was set.
    await this.#call({ op: "set", key, token });
  }

  /** Removes the token under `key`; no error when there is none. */
  async delete(key: string): Promise<void> {
    await this.#call({ op: "delete", key });
  }

  /** Runs `fn` holding the object's lease on `key`, so one isolate renews at a time. */
  lock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const ops: LeaseOps = {
      acquire: async (owner, ttlMs) =>
        await this.#call({ op: "acquire", key, owner, ttlMs }) === true,
      acquireOrWait: async (owner, ttlMs, waitMs) => {
        const answer = await this.#call({
          op: "acquire",
          key,
          owner,
          ttlMs,
          waitMs,
        });
        return answer === "free" ? answer : answer === true;
      },
      renew: async (owner, ttlMs) =>
        await this.#call({ op: "renew", key, owner, ttlMs }) === true,
      release: async (owner) => {
        await this.#call({ op: "release", key, owner });
      },
    };
    return withLease(
      ops,
      fn,
      this.#lease,
      `"${key}" (Durable Object "${this.#name}")`,
    );
  }

  async #call(call: Call): Promise<unknown> {
    const stub = this.#namespace.get(
      this.#namespace.idFromName(this.#name) as never,
    );
    const response = await stub.fetch("https://token-store.carto-auth/", {
      method: "POST",
      body: JSON.stringify(call),
    });
    const text = await response.text();
    let body: { result?: unknown; error?: string } | undefined;
    try {
      body = JSON.parse(text);
    } catch {
      // Not the object's answer (an exception page, a proxy): said below.
    }
    if (!response.ok || !body || typeof body !== "object") {
      throw new Error(
        `The token store Durable Object answered HTTP ${response.status}: ${
          body?.error ?? text.slice(0, 200)
        }. Check that TOKEN_STORE is bound to TokenStoreDurableObject.`,
      );
    }
    return body.result;
  }
}
