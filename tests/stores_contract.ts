/**
 * The contract every {@linkcode TokenStore} keeps, as node:test cases that
 * any test file registers over its own store (Memory, File, Cloudflare KV,
 * Deno KV, Redis, a Durable Object), with the lease cases of stores whose
 * lock is a lease.
 *
 * This file is not a test file itself; the `stores_*_test.ts` files and the
 * workerd runs (`worker_workerd_kv.ts` over miniflare's real KV,
 * `worker_durable_object.ts`) use it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CredentialsError, type StoredToken, type TokenStore } from "../mod.ts";

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
