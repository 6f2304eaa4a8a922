/**
 * The contract every {@linkcode TokenStore} keeps, as node:test cases that
 * any test file registers over its own store (Memory, File, Cloudflare KV,
 * Deno KV), plus a stand-in for a Cloudflare KV namespace that behaves like
 * the real one (text values, expirations, the 60 s minimum TTL, `list`).
 *
 * `isolatesContract` checks how `CartoAuth` instances (isolates, processes)
 * share one M2M token through a store.
 *
 * This file is not a test file itself; the `stores_*_test.ts` files and the
 * workerd run (`worker_workerd.ts`, over miniflare's real KV) use it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CartoAuth,
  type CartoAuthOptions,
  CredentialsError,
  type StoredToken,
  type TokenStore,
} from "../mod.ts";
import { type FakeCarto, startFakeCarto } from "../src/testing/mod.ts";

/** One store under test. */
export interface StoreCase {
  /** Shown before every case name, e.g. `DenoKVTokenStore`. */
  name: string;
  /**
   * Why this store does not exist in this runtime. Its cases are then
   * registered as skipped, so the runner counts them as skipped, not passed.
   */
  unavailable?: string;
  /** A fresh, empty store. */
  open(): Promise<TokenStore> | TokenStore;
  /**
   * A second store over the same backing as `store` (another process or
   * isolate). Absent for stores that keep nothing outside the instance.
   */
  peer?(store: TokenStore): Promise<TokenStore> | TokenStore;
  /**
   * For stores whose lock is a lease: the lease `open` gives them (short,
   * so that the cases run fast) and how to leave behind the lease of a
   * holder that died. The lock cases need `peer` too.
   */
  lease?: {
    ttlMs: number;
    waitMs: number;
    /** Leaves a lease on `key` held by an owner that will never renew or release it. */
    abandon(store: TokenStore, key: string): Promise<void>;
  };
}

const now = () => Math.floor(Date.now() / 1000);

/** A token with every field set. */
export function fullToken(overrides: Partial<StoredToken> = {}): StoredToken {
  return {
    accessToken: `eyJ.${crypto.randomUUID()}.sig`,
    expiration: now() + 3600,
    apiBaseUrl: "https://gcp-us-east1.api.carto.com",
    refreshToken: "rt-123",
    clientId: "client-abc",
    org: "acme",
    ...overrides,
  };
}

/** Values a store may find under its key that are not tokens. */
export const NOT_TOKENS: unknown[] = [
  "eyJ.token",
  42,
  null,
  [],
  { accessToken: "", expiration: now() + 60 },
  { accessToken: "t", expiration: "tomorrow" },
  { access_token: "t", expiration: now() + 60 },
];

/** Registers the contract's cases for `c`. */
export function tokenStoreContract(c: StoreCase): void {
  const cases: [string, (store: TokenStore) => Promise<void>][] = [
    ["get of a key never set is undefined", async (store) => {
      assert.equal(await store.get("m2m"), undefined);
      assert.equal(await store.get("oauth"), undefined);
    }],
    ["set then get gives back every field", async (store) => {
      const token = fullToken();
      await store.set("m2m", token);
      assert.deepEqual(await store.get("m2m"), token);
    }],
    [
      "a token with only the required fields comes back as it was",
      async (store) => {
        const token = { accessToken: "tok-min", expiration: now() + 600 };
        await store.set("oauth", token);
        assert.deepEqual(await store.get("oauth"), token);
      },
    ],
    ["set replaces the token under the key", async (store) => {
      await store.set("m2m", fullToken({ accessToken: "first" }));
      const second = fullToken({ accessToken: "second", clientId: "other" });
      await store.set("m2m", second);
      assert.deepEqual(await store.get("m2m"), second);
    }],
    ["keys are independent", async (store) => {
      const oauth = fullToken({ accessToken: "for-oauth" });
      const m2m = fullToken({ accessToken: "for-m2m" });
      await store.set("oauth", oauth);
      await store.set("m2m", m2m);
      assert.deepEqual(await store.get("oauth"), oauth);
      assert.deepEqual(await store.get("m2m"), m2m);
      await store.delete("oauth");
      assert.equal(await store.get("oauth"), undefined);
      assert.deepEqual(await store.get("m2m"), m2m);
    }],
    [
      "delete removes the token, and deleting a missing one is no error",
      async (store) => {
        await store.set("m2m", fullToken());
        await store.delete("m2m");
        assert.equal(await store.get("m2m"), undefined);
        await store.delete("m2m");
        await store.delete("oauth");
      },
    ],
    ["the store keeps its own copy", async (store) => {
      const token = fullToken({ accessToken: "original" });
      await store.set("m2m", token);
      token.accessToken = "changed after set";
      const read = await store.get("m2m");
      assert.equal(read?.accessToken, "original");
      read!.accessToken = "changed after get";
      assert.equal((await store.get("m2m"))?.accessToken, "original");
    }],
    [
      "a token near or past its expiry is still given back (CartoAuth decides)",
      async (store) => {
        const soon = fullToken({ expiration: now() + 5 });
        await store.set("m2m", soon);
        assert.deepEqual(await store.get("m2m"), soon);
        const past = fullToken({ expiration: now() - 3600 });
        await store.set("oauth", past);
        assert.deepEqual(await store.get("oauth"), past);
      },
    ],
  ];
  for (const [title, run] of cases) {
    test(`${c.name}: ${title}`, { skip: c.unavailable }, async () => {
      await run(await c.open());
    });
  }
  if (!c.peer) return;
  const peer = c.peer;
  test(
    `${c.name}: another instance over the same backing sees writes and deletes`,
    { skip: c.unavailable },
    async () => {
      const one = await c.open();
      const two = await peer(one);
      const token = fullToken();
      await one.set("m2m", token);
      assert.deepEqual(await two.get("m2m"), token);
      const newer = fullToken({ accessToken: "newer" });
      await two.set("m2m", newer);
      assert.deepEqual(await one.get("m2m"), newer);
      await one.delete("m2m");
      assert.equal(await two.get("m2m"), undefined);
    },
  );
  if (c.lease) leaseContract(c, c.lease, peer);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The lock cases of a store whose lock is a lease. */
function leaseContract(
  c: StoreCase,
  lease: NonNullable<StoreCase["lease"]>,
  peer: NonNullable<StoreCase["peer"]>,
): void {
  const { ttlMs, waitMs } = lease;
  const cases: [string, (one: TokenStore, two: TokenStore) => Promise<void>][] =
    [
      [
        "lock: holders over the same backing never overlap, and each gets its own result",
        async (one, two) => {
          let inside = 0, most = 0;
          const results = await Promise.all(
            Array.from(
              { length: 6 },
              (_, i) =>
                (i % 2 ? one : two).lock!("m2m", async () => {
                  most = Math.max(most, ++inside);
                  await sleep(5);
                  inside--;
                  return i;
                }),
            ),
          );
          assert.equal(most, 1, "one holder at a time");
          assert.deepEqual(results, results.map((_, i) => i));
        },
      ],
      [
        "lock: an error of the work passes through, and the lease is free at once",
        async (one, two) => {
          await assert.rejects(
            one.lock!("m2m", () => Promise.reject(new Error("work failed"))),
            /work failed/,
          );
          const started = Date.now();
          assert.equal(await two.lock!("m2m", () => Promise.resolve(7)), 7);
          assert.ok(Date.now() - started < ttlMs / 2, "released, not expired");
        },
      ],
      [
        "lock: leases of different keys are independent",
        async (one, two) => {
          const order: string[] = [];
          await one.lock!("m2m", async () => {
            await two.lock!("oauth", () => {
              order.push("oauth inside m2m");
              return Promise.resolve();
            });
          });
          assert.deepEqual(order, ["oauth inside m2m"]);
        },
      ],
      [
        "lock: a holder working for 2.5 lease times keeps others out (it renews its lease)",
        async (one, two) => {
          assert.ok(waitMs > ttlMs * 2.5, "the waiter waits longer than that");
          let holding = true;
          const held = one.lock!("m2m", async () => {
            await sleep(ttlMs * 2.5);
            holding = false;
          });
          await sleep(ttlMs / 4);
          const entered = await two.lock!(
            "m2m",
            () => Promise.resolve(holding),
          );
          await held;
          assert.equal(
            entered,
            false,
            "the waiter entered only after the holder",
          );
        },
      ],
      [
        "lock: the lease of a holder that died is taken over once it runs out",
        async (one, two) => {
          await lease.abandon(one, "m2m");
          const started = Date.now();
          await two.lock!("m2m", () => Promise.resolve());
          const waited = Date.now() - started;
          assert.ok(waited >= ttlMs * 0.8, `waited ${waited} ms`);
          assert.ok(waited < ttlMs + 2000, `waited ${waited} ms`);
        },
      ],
      [
        "lock: a waiter that waited its longest for a live holder fails with a CredentialsError (timeout), and never runs",
        async (one, two) => {
          const held = one.lock!("m2m", () => sleep(waitMs + ttlMs * 2));
          await sleep(ttlMs / 4);
          const started = Date.now();
          let ran = false;
          const error = await two.lock!("m2m", () => {
            ran = true;
            return Promise.resolve();
          }).catch((e) => e);
          const waited = Date.now() - started;
          await held;
          assert.ok(error instanceof CredentialsError, String(error));
          assert.equal(error.code, "timeout");
          assert.match(
            error.message,
            /^Waited \d+ s for another process renewing "m2m" \(.+\): it still holds the lock and keeps it alive\. Try again later\.$/,
          );
          assert.equal(ran, false);
          assert.ok(waited >= waitMs * 0.8, `waited ${waited} ms`);
        },
      ],
    ];
  for (const [title, run] of cases) {
    test(`${c.name}: ${title}`, { skip: c.unavailable }, async () => {
      const one = await c.open();
      assert.equal(typeof one.lock, "function", "the store has a lock");
      await run(one, await peer(one));
    });
  }
}

/** A store shared by several isolates: `isolate()` gives each its own view. */
export interface SharedStoreCase {
  /** Shown before every case name. */
  name: string;
  /** Why this store does not exist in this runtime (cases are skipped). */
  unavailable?: string;
  /** A fresh, empty backing; each call of the function is another isolate's store. */
  open(): Promise<() => Promise<TokenStore> | TokenStore>;
}

/**
 * Registers the cross-isolate cases for `c`: every `CartoAuth` is one
 * isolate, with its own memory and single flight, sharing only the store.
 */
export function isolatesContract(c: SharedStoreCase): void {
  /** What each case gets: the fake CARTO, a store view, and a new isolate. */
  interface Isolates {
    fake: FakeCarto;
    storeView(): Promise<TokenStore> | TokenStore;
    /** A new isolate: a `CartoAuth` of the fake's M2M client over its own store view. */
    isolate(options?: Partial<CartoAuthOptions>): Promise<CartoAuth>;
  }
  const sqlPath = "/v3/sql/carto_dw/query?q=SELECT%201%20AS%20n";
  const cases: [string, (t: Isolates) => Promise<void>][] = [
    [
      "a token one isolate obtained is used by the others without a token request",
      async ({ fake, isolate }) => {
        const first = await (await isolate()).getAccessToken();
        assert.equal(fake.count("token"), 1);
        for (let i = 0; i < 3; i++) {
          const other = await isolate();
          assert.equal(await other.getAccessToken(), first);
          const res = await other.fetch(sqlPath);
          assert.deepEqual((await res.json()).rows, [{ n: 1 }]);
        }
        assert.equal(fake.count("token"), 1);
      },
    ],
    [
      "concurrent cold starts over an expired token: at most one token request per isolate",
      async ({ fake, isolate, storeView }) => {
        await (await storeView()).set("m2m", {
          accessToken: "expired",
          expiration: now() - 3600,
          clientId: fake.credentials.clientId,
        });
        const isolates = await Promise.all(
          Array.from({ length: 4 }, () => isolate()),
        );
        const tokens = await Promise.all(
          isolates.map((auth) =>
            Promise.all(Array.from({ length: 25 }, () => auth.getAccessToken()))
          ),
        );
        for (const perIsolate of tokens) {
          assert.equal(new Set(perIsolate).size, 1, "one renewal per isolate");
          assert.ok(fake.isValidToken(perIsolate[0]));
        }
        const requests = fake.count("token");
        assert.ok(
          requests >= 1 && requests <= isolates.length,
          `${requests} token requests`,
        );
        if ((await storeView()).lock) {
          assert.equal(requests, 1, "a store with a lock renews once");
        }
        const late = await isolate();
        assert.ok(tokens.flat().includes(await late.getAccessToken()));
        assert.equal(
          fake.count("token"),
          requests,
          "a later isolate uses the stored token",
        );
      },
    ],
    [
      "an isolate whose token nears expiry takes the newer one from the store",
      async ({ fake, isolate }) => {
        const fresh = await (await isolate()).getAccessToken();
        const ageing = await isolate({
          accessToken: "about-to-expire",
          expiration: now() + 30,
        });
        assert.equal(await ageing.getAccessToken(), fresh);
        assert.equal(fake.count("token"), 1);
      },
    ],
    [
      "a token the API refused is replaced once, and the other isolates pick up the replacement",
      async ({ fake, isolate }) => {
        const [a, b] = [await isolate(), await isolate()];
        const first = await a.getAccessToken();
        assert.equal(await b.getAccessToken(), first);
        fake.revokeTokens();
        assert.equal((await b.fetch(sqlPath)).status, 200);
        assert.equal(fake.count("token"), 2);
        const second = await b.getAccessToken();
        assert.notEqual(second, first);
        assert.equal((await a.fetch(sqlPath)).status, 200);
        assert.equal(await a.getAccessToken(), second);
        assert.equal(
          fake.count("token"),
          2,
          "the other isolate took the stored replacement",
        );
      },
    ],
    [
      "a token of another M2M client in the store is not used, and is replaced",
      async ({ fake, isolate, storeView }) => {
        await (await storeView()).set(
          "m2m",
          fullToken({ accessToken: "someone-else", clientId: "other-client" }),
        );
        assert.notEqual(
          await (await isolate()).getAccessToken(),
          "someone-else",
        );
        assert.equal(fake.count("token"), 1);
        assert.equal(
          (await (await storeView()).get("m2m"))?.clientId,
          fake.credentials.clientId,
        );
      },
    ],
    [
      "DW credentials one isolate fetched are used by the others without a DW token request",
      async ({ fake, isolate }) => {
        const first = await (await isolate()).getCartoDwCredentials();
        assert.deepEqual(first[0], fake.dwProjectId);
        for (let i = 0; i < 3; i++) {
          const other = await isolate();
          assert.deepEqual(await other.getCartoDwCredentials(), first);
          const dw = await other.getCartoDwClient();
          assert.deepEqual((await dw.query("SELECT 1 AS n")).rows, [{ n: 1 }]);
        }
        assert.equal(fake.count("dwToken"), 1);
      },
    ],
    [
      "a DW token BigQuery refused is replaced once, and the other isolates pick up the replacement",
      async ({ fake, isolate }) => {
        const [a, b] = [await isolate(), await isolate()];
        const [dwA, dwB] = [
          await a.getCartoDwClient(),
          await b.getCartoDwClient(),
        ];
        assert.equal(fake.count("dwToken"), 1);
        fake.revokeDwTokens();
        assert.deepEqual((await dwA.query("SELECT 2 AS n")).rows, [{ n: 2 }]);
        assert.equal(fake.count("dwToken"), 2);
        assert.deepEqual((await dwB.query("SELECT 3 AS n")).rows, [{ n: 3 }]);
        assert.equal(
          fake.count("dwToken"),
          2,
          "the other isolate took the stored replacement",
        );
        assert.deepEqual(
          await b.getCartoDwCredentials(),
          await a.getCartoDwCredentials(),
        );
      },
    ],
    [
      "DW credentials of another CARTO identity in the store are not used",
      async ({ fake, isolate, storeView }) => {
        await (await storeView()).set("m2m_dw", {
          accessToken: "ya29.someone-else",
          expiration: now() + 3000,
          apiBaseUrl: fake.apiBaseUrl,
          clientId: "other-client@clients",
          projectId: "carto-dw-ac-other",
        });
        const [project, token] = await (await isolate())
          .getCartoDwCredentials();
        assert.equal(project, fake.dwProjectId);
        assert.notEqual(token, "ya29.someone-else");
        assert.equal(fake.count("dwToken"), 1);
      },
    ],
  ];
  for (const [title, run] of cases) {
    test(
      `${c.name}, across isolates: ${title}`,
      { skip: c.unavailable },
      async () => {
        await using fake = await startFakeCarto();
        const storeView = await c.open();
        await run({
          fake,
          storeView,
          isolate: async (options = {}) =>
            new CartoAuth({
              mode: "m2m",
              ...fake.credentials,
              endpoints: fake.endpoints,
              store: await storeView(),
              ...options,
            }),
        });
      },
    );
  }
}

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

/**
 * Opens real Deno KV databases in temporary files, and closes them all at the
 * end. `unavailable` says why there are none (not Deno); in Deno without KV
 * (no `--unstable-kv`), `open` throws, so those cases fail instead of passing.
 */
export function denoKvFiles(): {
  unavailable?: string;
  open(path?: string): Promise<{ kv: Deno.Kv; path: string }>;
  closeAll(): void;
} {
  const deno = (globalThis as {
    Deno?: { openKv?: (path?: string) => Promise<Deno.Kv> };
  }).Deno;
  const opened: Deno.Kv[] = [];
  return {
    unavailable: deno ? undefined : "Deno KV exists only in Deno",
    async open(path) {
      if (!deno?.openKv) {
        throw new Error(
          "Deno.openKv is missing: Deno KV needs --unstable-kv (deno.json sets unstable: [kv]).",
        );
      }
      path ??= join(
        await mkdtemp(join(tmpdir(), "carto-auth-kv-")),
        "kv.sqlite3",
      );
      const kv = await deno.openKv(path);
      opened.push(kv);
      return { kv, path };
    },
    closeAll() {
      for (const kv of opened.splice(0)) kv.close();
    },
  };
}
