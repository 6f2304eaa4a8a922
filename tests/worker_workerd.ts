/**
 * The example worker in real workerd (miniflare), against the fake CARTO on
 * 127.0.0.1: its token shared through KV or its Durable Object, and its JSON
 * errors. What its SQL routes accept is in `worker_workerd_queries.ts`, the
 * token store contract over workerd's KV in `worker_workerd_kv.ts`. Run by
 * the `integration` run of scripts/test.ts; the name keeps it out of the
 * plain Deno and Bun runs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CloudflareKVTokenStore } from "../mod.ts";
import {
  type DurableObjectNamespaceLike,
  DurableObjectTokenStore,
} from "../cloudflare.ts";
import { fullToken } from "./stores_contract.ts";
import { tokensKV } from "./worker_miniflare.ts";
import {
  get,
  now,
  post,
  stoppedAfterTests,
  wireRows,
} from "./worker_harness.ts";
import { NAMED_QUERIES } from "../examples/cloudflare-worker/src/queries.ts";

const { worker, fakeCarto } = stoppedAfterTests();

test("workerd: /health answers without calling CARTO", async () => {
  const fake = await fakeCarto();
  const mf = await worker(fake);
  const { status, body } = await get(mf, "/health");
  assert.equal(status, 200);
  assert.deepEqual(body, { ok: true });
  assert.equal(fake.requests.length, 0);
});

test("workerd: the first request fetches a token and stores it in KV; later requests and a fresh instance sharing KV make no token request", async () => {
  const fake = await fakeCarto();
  const kvPersist = await mkdtemp(join(tmpdir(), "carto-auth-kv-"));
  const first = await worker(fake, { kvPersist });

  const one = await post(first, "/query", { sql: "SELECT 1 AS n, 'x' AS s" });
  assert.equal(one.status, 200, one.text);
  assert.deepEqual(one.body.rows, [{ n: 1, s: "x" }]);
  assert.deepEqual(one.body.schema.map((f: { name: string }) => f.name), [
    "n",
    "s",
  ]);
  assert.equal(fake.count("token"), 1);

  const kv = await tokensKV(first);
  const stored = JSON.parse((await kv.get("carto-auth:m2m"))!);
  assert.ok(fake.isValidToken(stored.accessToken));
  assert.equal(stored.clientId, fake.credentials.clientId);
  assert.equal(stored.apiBaseUrl, fake.apiBaseUrl);
  assert.equal(
    JSON.stringify(stored).includes(fake.credentials.clientSecret),
    false,
  );
  // The DW credentials are shared too, for 50 minutes after they were fetched.
  const storedDw = JSON.parse((await kv.get("carto-auth:m2m_dw"))!);
  assert.equal(storedDw.projectId, fake.dwProjectId);
  assert.ok(Math.abs(storedDw.expiration - (now() + 3000)) < 30);
  const { keys } = await kv.list();
  assert.deepEqual(keys.map((k) => [k.name, k.expiration]), [
    ["carto-auth:m2m", Math.ceil(stored.expiration)],
    ["carto-auth:m2m_dw", Math.ceil(storedDw.expiration)],
  ]);

  for (let i = 0; i < 3; i++) {
    assert.equal(
      (await post(first, "/query", { sql: `SELECT ${i} AS n` })).status,
      200,
    );
  }
  const viaSql = await post(first, "/sql/carto_dw", { q: "SELECT 2 AS n" });
  assert.equal(viaSql.status, 200, viaSql.text);
  assert.deepEqual(viaSql.body.rows, [{ n: 2 }]);
  assert.equal(fake.count("token"), 1);
  await first.dispose();

  const fresh = await worker(fake, { kvPersist });
  const again = await post(fresh, "/sql/carto_dw", { q: "SELECT 3 AS n" });
  assert.equal(again.status, 200, again.text);
  assert.deepEqual(again.body.rows, [{ n: 3 }]);
  const dw = await post(fresh, "/query", { sql: "SELECT 4 AS n" });
  assert.deepEqual(dw.body.rows, [{ n: 4 }]);
  assert.equal(
    fake.count("token"),
    1,
    "the fresh instance used the token in KV",
  );
  assert.equal(fake.count("dwToken"), 1, "and the DW credentials in KV");
  const bearer = fake.requests.filter((r) => r.route === "sql").map((r) =>
    r.headers.get("authorization")
  );
  assert.deepEqual(new Set(bearer), new Set([`Bearer ${stored.accessToken}`]));
});

test("workerd: an expired token in KV and 100 concurrent requests make one token request", async () => {
  const fake = await fakeCarto();
  const mf = await worker(fake);
  const store = new CloudflareKVTokenStore(await tokensKV(mf));
  await store.set(
    "m2m",
    fullToken({
      accessToken: "expired-token",
      expiration: now() - 3600,
      clientId: fake.credentials.clientId,
      apiBaseUrl: fake.apiBaseUrl,
    }),
  );
  const answers = await Promise.all(
    Array.from(
      { length: 100 },
      (_, i) => post(mf, "/sql/carto_dw", { q: `SELECT ${i} AS n` }),
    ),
  );
  assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
  assert.deepEqual(
    answers.map((a) => a.body.rows[0].n),
    answers.map((_, i) => i),
  );
  assert.equal(fake.count("token"), 1);
  assert.notEqual((await store.get("m2m"))?.accessToken, "expired-token");
});

test("workerd: bad SQL is a JSON error with status 400, on both routes", async () => {
  const fake = await fakeCarto();
  const mf = await worker(fake);
  const dw = await post(mf, "/query", { sql: "SELEC nonsense" });
  assert.equal(dw.status, 400);
  assert.match(dw.body.error, /BigQuery .*HTTP 400.*Syntax error/);
  const sql = await post(mf, "/sql/carto_dw", { q: "SELEC nonsense" });
  assert.equal(sql.status, 400);
  assert.match(
    sql.body.error,
    /^CARTO SQL API answered HTTP 400: Syntax error/,
  );
});

test("workerd: a missing query, an unknown route, and an upstream failure are JSON errors", async () => {
  const fake = await fakeCarto();
  const mf = await worker(fake);
  const noSql = await post(mf, "/query", {});
  assert.deepEqual([noSql.status, noSql.body], [400, {
    error: 'Post the query as {"sql": "…"}',
  }]);
  const noQ = await post(mf, "/sql/carto_dw", { sql: "SELECT 1" });
  assert.deepEqual([noQ.status, noQ.body], [400, {
    error: 'Post the query as {"q": "…"}',
  }]);
  const badParams = await post(mf, "/query", {
    sql: "SELECT @n AS n",
    params: { n: { nested: 1 } },
  });
  assert.equal(badParams.status, 400);
  assert.match(badParams.body.error, /"params" must map names to strings/);
  const none = await get(mf, "/nowhere");
  assert.deepEqual([none.status, none.body], [404, {
    error: "No route for /nowhere",
  }]);
  // A POST is never retried: one 503 is the answer.
  fake.failNext("sql", { status: 503, body: { error: "maintenance" } });
  const down = await post(mf, "/sql/carto_dw", { q: "SELECT 1 AS n" });
  assert.equal(down.status, 502);
  assert.equal(down.body.error, "CARTO SQL API answered HTTP 503: maintenance");
});

test("workerd: refused credentials are a 502 JSON error that never shows the secret", async () => {
  const fake = await fakeCarto();
  const secret = "wrong-secret-do-not-echo-4711";
  const mf = await worker(fake, { bindings: { CARTO_CLIENT_SECRET: secret } });
  for (
    const [path, body] of [
      ["/query", { sql: "SELECT 1 AS n" }],
      ["/sql/carto_dw", { q: "SELECT 1 AS n" }],
    ] as const
  ) {
    const res = await post(mf, path, body);
    assert.equal(res.status, 502, res.text);
    assert.match(res.body.error, /HTTP 401 access_denied/);
    assert.equal(res.text.includes(secret), false);
  }
  const kv = await tokensKV(mf);
  assert.deepEqual((await kv.list()).keys, []);
});

test("workerd: a worker without its secrets says which are missing, not their values", async () => {
  const fake = await fakeCarto();
  const mf = await worker(fake, {
    bindings: { CARTO_CLIENT_SECRET: "", CARTO_CLIENT_ID: "" },
  });
  const res = await post(mf, "/query", { sql: "SELECT 1 AS n" });
  assert.equal(res.status, 500);
  assert.match(
    res.body.error,
    /not configured: set CARTO_CLIENT_ID, CARTO_CLIENT_SECRET .*\.dev\.vars for `wrangler dev`/,
  );
  assert.equal(fake.requests.length, 0);
});

test("workerd: the code-split build (lazy chunks for login) serves too", async () => {
  const fake = await fakeCarto();
  const mf = await worker(fake, { build: { splitting: true, minify: true } });
  const res = await post(mf, "/query", { sql: "SELECT 5 AS n" });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.rows, [{ n: 5 }]);
});

test("workerd: with its Durable Object bound (wrangler.toml's TOKEN_STORE), 100 concurrent requests over an expired token make 1 token request, and the token lives in the object", async () => {
  const toml = await readFile(
    new URL("../examples/cloudflare-worker/wrangler.toml", import.meta.url),
    "utf8",
  );
  assert.match(
    toml,
    /\[\[durable_objects\.bindings\]\]\s*name = "TOKEN_STORE"\s*class_name = "TokenStoreDurableObject"/,
  );
  assert.match(toml, /new_sqlite_classes = \["TokenStoreDurableObject"\]/);
  const fake = await fakeCarto();
  fake.bigquery.setResult(NAMED_QUERIES["airports-in"].sql, {
    schema: [{ name: "iata", type: "STRING" }],
    rows: wireRows([["BCN"]]),
  });
  const mf = await worker(fake, { durableObject: true });
  const namespace = await mf.getDurableObjectNamespace("TOKEN_STORE");
  const store = new DurableObjectTokenStore(
    namespace as unknown as DurableObjectNamespaceLike,
  );
  await store.set("m2m", {
    accessToken: "expired-token",
    expiration: now() - 3600,
    clientId: fake.credentials.clientId,
    apiBaseUrl: fake.apiBaseUrl,
  });
  const answers = await Promise.all(
    Array.from(
      { length: 100 },
      (_, i) => get(mf, `/queries/airports-in?country=C${i}`),
    ),
  );
  assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
  assert.equal(fake.count("token"), 1);
  assert.equal(fake.count("dwToken"), 1);
  const held = await store.get("m2m");
  assert.ok(held && fake.isValidToken(held.accessToken));
  const kv = await tokensKV(mf);
  assert.deepEqual((await kv.list()).keys, [], "KV is not used");
});
