/**
 * How `CartoAuth` instances (isolates, processes) share one M2M token and
 * the DW credentials through a store, as node:test cases that a test file
 * registers over its own shared store. Not a test file itself.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CartoAuth, type CartoAuthOptions, type TokenStore } from "../mod.ts";
import { type FakeCarto, startFakeCarto } from "../src/testing/mod.ts";
import { fullToken } from "./stores_contract.ts";

const now = () => Math.floor(Date.now() / 1000);

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
