/**
 * DenoKVTokenStore over real Deno KV databases (Deno only; in Bun these
 * cases are registered as skipped), and the Deno Deploy example
 * (`examples/deno-deploy/main.ts`) with two isolates sharing one database.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { type DenoKv, DenoKVTokenStore } from "../mod.ts";
import { startFakeCarto } from "../src/testing/mod.ts";
import { denoKvFiles } from "./deno_kv_files.ts";
import { fullToken, NOT_TOKENS } from "./stores_contract.ts";

const denoKv = denoKvFiles();
after(() => denoKv.closeAll());
const skip = denoKv.unavailable;
const now = () => Math.floor(Date.now() / 1000);

/** The database, with every `set`'s options written down. */
async function recordingKv() {
  const { kv, path } = await denoKv.open();
  const sets: { key: unknown[]; expireIn?: number }[] = [];
  const recording: DenoKv = {
    get: (key) => kv.get(key),
    delete: (key) => kv.delete(key),
    atomic: () => kv.atomic(),
    set(key, value, options) {
      sets.push({ key: [...key], expireIn: options?.expireIn });
      return kv.set(key, value, options);
    },
  };
  return { kv, path, recording, sets };
}

test(
  "DenoKVTokenStore keeps the token under [carto-auth, <key>], or under its prefix",
  { skip },
  async () => {
    const { kv } = await denoKv.open();
    const plain = new DenoKVTokenStore(kv);
    const other = new DenoKVTokenStore(kv, { prefix: ["apps", "b"] });
    assert.deepEqual(plain.keyFor("m2m"), ["carto-auth", "m2m"]);
    const a = fullToken({ accessToken: "a" });
    const b = fullToken({ accessToken: "b" });
    await plain.set("m2m", a);
    await other.set("m2m", b);
    assert.deepEqual((await kv.get(["carto-auth", "m2m"])).value, a);
    assert.deepEqual((await kv.get(["apps", "b", "m2m"])).value, b);
    await other.delete("m2m");
    assert.deepEqual(await plain.get("m2m"), a);
  },
);

test(
  "a token is written with expireIn set to its remaining lifetime, at least 60 s",
  { skip },
  async () => {
    const { recording, sets } = await recordingKv();
    const store = new DenoKVTokenStore(recording);
    await store.set("m2m", fullToken({ expiration: now() + 3600 }));
    await store.set("soon", fullToken({ expiration: now() + 10 }));
    await store.set("past", fullToken({ expiration: now() - 600 }));
    await store.set("never", fullToken({ expiration: Infinity }));
    const [hour, soon, past, never] = sets.map((s) => s.expireIn);
    assert.ok(hour! > 3_598_000 && hour! <= 3_600_000, `expireIn ${hour}`);
    assert.ok(Number.isInteger(hour));
    assert.equal(soon, 60_000);
    assert.equal(past, 60_000);
    assert.equal(never, undefined);
  },
);

test(
  "a Deno KV value that is not a token reads as undefined",
  { skip },
  async () => {
    const { kv } = await denoKv.open();
    const store = new DenoKVTokenStore(kv);
    for (const value of NOT_TOKENS) {
      await kv.set(["carto-auth", "m2m"], value);
      assert.equal(await store.get("m2m"), undefined, JSON.stringify(value));
    }
  },
);

test(
  "Deno Deploy example: two isolates share one token through Deno KV; bad SQL is a JSON 400",
  { skip },
  async () => {
    const { createHandler } = await import("../examples/deno-deploy/main.ts");
    await using fake = await startFakeCarto();
    const { path } = await denoKv.open();
    const config = { ...fake.credentials, endpoints: fake.endpoints };
    const isolates = [
      createHandler((await denoKv.open(path)).kv, config),
      createHandler((await denoKv.open(path)).kv, config),
    ];
    const query = (i: number, sql: string) =>
      isolates[i](
        new Request("http://app.test/query", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ sql }),
        }),
      );
    const first = await query(0, "SELECT 1 AS n, 'x' AS s");
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), {
      rows: [{ n: 1, s: "x" }],
      truncated: false,
    });
    const second = await query(1, "SELECT 2 AS n");
    assert.deepEqual(await second.json(), {
      rows: [{ n: 2 }],
      truncated: false,
    });
    assert.equal(
      fake.count("token"),
      1,
      "the second isolate used the token in KV",
    );
    const bad = await query(1, "SELEC nonsense");
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /Syntax error/);
    const none = await isolates[0](new Request("http://app.test/"));
    assert.equal(none.status, 404);
  },
);

test(
  "Deno Deploy example: SQL only from a same-site JSON POST, with caps on bytes billed and rows",
  { skip },
  async () => {
    const { createHandler } = await import("../examples/deno-deploy/main.ts");
    await using fake = await startFakeCarto();
    const app = createHandler((await denoKv.open()).kv, {
      ...fake.credentials,
      endpoints: fake.endpoints,
      maxRows: 2,
      maxBytesBilled: "5000",
    });
    const post = (body: string, headers: Record<string, string> = {}) =>
      app(
        new Request("http://app.test/query", {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body,
        }),
      );
    const get = await app(
      new Request("http://app.test/query?sql=DROP%20TABLE%20t"),
    );
    assert.equal(get.status, 405);
    const crossSite = await post('{"sql": "SELECT 1"}', {
      "sec-fetch-site": "cross-site",
    });
    assert.equal(crossSite.status, 403);
    const form = await post("sql=SELECT+1", {
      "content-type": "application/x-www-form-urlencoded",
    });
    assert.equal(form.status, 415);
    assert.equal((await post('{"q": "SELECT 1"}')).status, 400);
    assert.equal(fake.count("bigquery"), 0, "nothing refused reached BigQuery");
    const sql = "SELECT n FROM numbers";
    fake.bigquery.setResult(sql, {
      schema: [{ name: "n", type: "INTEGER" }],
      rows: ["1", "2", "3", "4", "5"].map((v) => ({ f: [{ v }] })),
    });
    const capped = await post(JSON.stringify({ sql }));
    assert.equal(capped.status, 200);
    assert.deepEqual(await capped.json(), {
      rows: [{ n: 1 }, { n: 2 }],
      truncated: true,
    });
    const sent = fake.requests.find((r) =>
      r.route === "bigquery" && r.method === "POST"
    );
    assert.equal(JSON.parse(sent!.body).maximumBytesBilled, "5000");
  },
);
