/**
 * The example worker in real workerd (miniflare), against the fake CARTO on
 * 127.0.0.1, and the token store contract over workerd's real KV. Run by the
 * `integration` run of scripts/test.ts;
 * the name keeps it out of the plain Deno and Bun runs.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Miniflare } from "miniflare";
import { CloudflareKVTokenStore } from "../mod.ts";
import {
  type DurableObjectNamespaceLike,
  DurableObjectTokenStore,
} from "../cloudflare.ts";
import { type FakeCarto, startFakeCarto } from "../src/testing/mod.ts";
import { fullToken, tokenStoreContract } from "./stores_contract.ts";
import { startWorker, tokensKV } from "./worker_miniflare.ts";
import { NAMED_QUERIES } from "../examples/cloudflare-worker/src/queries.ts";

const running: { dispose(): Promise<void> }[] = [];
after(async () => {
  for (const r of running.splice(0).reverse()) await r.dispose();
});

async function worker(
  fake: FakeCarto,
  options: Parameters<typeof startWorker>[1] = {},
): Promise<Miniflare> {
  const mf = await startWorker(fake, options);
  running.push(mf);
  return mf;
}

async function fakeCarto(): Promise<FakeCarto> {
  const fake = await startFakeCarto();
  running.push({ dispose: () => fake.close() });
  return fake;
}

async function get(mf: Miniflare, path: string, init?: RequestInit) {
  // miniflare's own RequestInit type; a web-standard one fits it.
  const res = await mf.dispatchFetch(
    `http://worker.test${path}`,
    init as Parameters<Miniflare["dispatchFetch"]>[1],
  );
  const type = res.headers.get("content-type") ?? "";
  const text = await res.text();
  assert.match(type, /^application\/json/, `${path}: ${res.status} ${text}`);
  return { status: res.status, body: JSON.parse(text), text };
}

/** POSTs `body` as JSON, as the worker's SQL routes want it. */
function post(
  mf: Miniflare,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return get(mf, path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

const q = (sql: string) => encodeURIComponent(sql);
/** BigQuery rows as the REST API sends them. */
const wireRows = (values: string[][]) =>
  values.map((row) => ({ f: row.map((v) => ({ v })) }));
const now = () => Math.floor(Date.now() / 1000);

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

test("workerd: free-form SQL by GET, from another site, or not as JSON reaches nothing", async () => {
  const fake = await fakeCarto();
  const mf = await worker(fake);
  for (
    const path of [
      `/query?sql=${q("DROP TABLE t")}`,
      `/sql/carto_dw?q=${q("DROP TABLE t")}`,
    ]
  ) {
    const res = await get(mf, path);
    assert.equal(res.status, 405, res.text);
    assert.match(res.body.error, /SQL is not taken from a GET/);
  }
  const crossSite = await post(mf, "/query", { sql: "DROP TABLE t" }, {
    "sec-fetch-site": "cross-site",
  });
  assert.equal(crossSite.status, 403);
  for (
    const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]
  ) {
    const res = await get(mf, "/query", {
      method: "POST",
      headers: { "content-type": type },
      body: JSON.stringify({ sql: "DROP TABLE t" }),
    });
    assert.equal(res.status, 415, type);
  }
  // No CORS: a preflight for a cross-site JSON POST gets no permission.
  const preflight = await mf.dispatchFetch("http://worker.test/query", {
    method: "OPTIONS",
    headers: {
      origin: "https://evil.example",
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type",
    },
  });
  await preflight.arrayBuffer();
  assert.equal(preflight.headers.get("access-control-allow-origin"), null);
  assert.deepEqual(fake.requests, [], "nothing reached CARTO or BigQuery");
});

test("workerd: /query caps bytes billed and rows, streaming the rows of every page", async () => {
  const fake = await fakeCarto();
  const sql = "SELECT n FROM numbers";
  const values = Array.from({ length: 25 }, (_, i) => [String(i)]);
  fake.bigquery.setResult(sql, {
    schema: [{ name: "n", type: "INTEGER" }],
    rows: wireRows(values),
  }, { pageSize: 4 });
  const mf = await worker(fake, {
    bindings: { MAX_ROWS: "10", MAX_BYTES_BILLED: "5000000" },
  });
  const res = await post(mf, "/query", { sql });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(
    res.body.rows,
    values.slice(0, 10).map(([n]) => ({ n: Number(n) })),
  );
  assert.equal(res.body.totalRows, 25);
  assert.equal(res.body.truncated, true);
  const queries = fake.requests.filter((r) =>
    r.route === "bigquery" && r.method === "POST" &&
    r.path.split("?")[0].endsWith("/queries")
  );
  assert.equal(queries.length, 1);
  assert.equal(JSON.parse(queries[0].body).maximumBytesBilled, "5000000");
  const pages = fake.requests.filter((r) =>
    r.route === "bigquery" && r.method === "GET"
  );
  assert.ok(pages.length <= 3, `${pages.length} page requests for 10 rows`);

  // Under the cap every page is read, in order; the default cap is 1 GB.
  const all = await worker(fake);
  const whole = await post(all, "/query", { sql });
  assert.deepEqual(
    whole.body.rows.map((r: { n: number }) => r.n),
    values.map(([n]) => Number(n)),
  );
  assert.equal(whole.body.truncated, false);
  const last = fake.requests.filter((r) =>
    r.route === "bigquery" && r.method === "POST" &&
    r.path.split("?")[0].endsWith("/queries")
  ).at(-1)!;
  assert.equal(JSON.parse(last.body).maximumBytesBilled, "1000000000");
});

test("workerd: /query streams: the first rows go out while a later page is still on its way", async () => {
  const fake = await fakeCarto();
  const sql = "SELECT n FROM numbers";
  fake.bigquery.setResult(sql, {
    schema: [{ name: "n", type: "INTEGER" }],
    rows: wireRows(Array.from({ length: 12 }, (_, i) => [String(i)])),
  }, { pageSize: 4 });
  let pages = 0;
  fake.fault("bigquery", "hang", 1, (r) => r.method === "GET" && ++pages === 2);
  const mf = await worker(fake);
  const res = await mf.dispatchFetch("http://worker.test/query", {
    method: "POST",
    // Not gzip: miniflare's compression would hold small chunks back.
    headers: {
      "content-type": "application/json",
      "accept-encoding": "identity",
    },
    body: JSON.stringify({ sql }),
  });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes('{"n":7}')) {
    const { value, done } = await reader.read();
    assert.ok(!done, `the answer ended early: ${text}`);
    text += decoder.decode(value, { stream: true });
  }
  assert.match(text, /^\{"schema":.*"totalRows":12,"rows":\[\{"n":0\},/);
  assert.ok(!text.includes("truncated"), "the third page has not come yet");
  await reader.cancel();
});

test("workerd: a 60 KB query reaches the SQL API in a POST body, never in a URL", async () => {
  const fake = await fakeCarto();
  const mf = await worker(fake);
  const long = `SELECT '${"x".repeat(60_000)}' AS s`;
  const res = await post(mf, "/sql/carto_dw", { q: long });
  assert.equal(res.status, 200, res.text.slice(0, 200));
  assert.equal(res.body.rows[0].s.length, 60_000);
  const seen = fake.requests.filter((r) => r.route === "sql").at(-1)!;
  assert.equal(seen.method, "POST");
  assert.equal(seen.path, "/api/v3/sql/carto_dw/query");
  assert.equal(JSON.parse(seen.body).q, long);
});

test("workerd: a named query runs by GET with its parameters as query parameters", async () => {
  const fake = await fakeCarto();
  const { sql } = NAMED_QUERIES["airports-in"];
  fake.bigquery.setResult(sql, {
    schema: [{ name: "iata", type: "STRING" }],
    rows: wireRows([["BCN"], ["MAD"]]),
  });
  const mf = await worker(fake);
  const res = await get(
    mf,
    `/queries/airports-in?country=${q("ES' OR 1=1 --")}`,
  );
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body.rows, [{ iata: "BCN" }, { iata: "MAD" }]);
  const sent = JSON.parse(
    fake.requests.findLast((r) =>
      r.route === "bigquery" && r.method === "POST"
    )!
      .body,
  );
  assert.equal(sent.query, sql, "the SQL is the named one, untouched");
  assert.deepEqual(
    sent.queryParameters.map((
      p: { name: string; parameterValue: { value: string } },
    ) => [p.name, p.parameterValue.value]),
    [["country", "ES' OR 1=1 --"]],
  );
  const missing = await get(mf, "/queries/airports-in");
  assert.deepEqual([missing.status, missing.body], [400, {
    error: "Pass ?country=…",
  }]);
  const unknown = await get(mf, "/queries/toString");
  assert.equal(unknown.status, 404);
});

// The token store contract over workerd's own KV (miniflare's getKVNamespace).
const kvHost = (async () => {
  const mf = await worker(await fakeCarto(), {
    script: "export default { fetch: () => new Response('') };",
  });
  return await tokensKV(mf);
})();
let prefixes = 0;
tokenStoreContract({
  name: "CloudflareKVTokenStore (workerd KV)",
  // Each case gets its own prefix in the one namespace.
  open: async () =>
    new CloudflareKVTokenStore(await kvHost, { prefix: `case${++prefixes}:` }),
  peer: async (store) =>
    new CloudflareKVTokenStore(await kvHost, {
      prefix: (store as CloudflareKVTokenStore).keyFor(""),
    }),
});

test("workerd KV: a token is written with its expiry as KV expiration; one near or past expiry for KV's minimum of 60 s", async () => {
  const kv = await kvHost;
  await assert.rejects(
    kv.put("probe", "x", { expirationTtl: 30 }),
    /at least 60/,
    "workerd's KV itself refuses TTLs under 60 s",
  );
  const store = new CloudflareKVTokenStore(kv, { prefix: "ttl:" });
  const token = fullToken({ expiration: now() + 3600 });
  await store.set("m2m", token);
  const soon = fullToken({ expiration: now() + 10 });
  await store.set("oauth", soon);
  await store.set("past", fullToken({ expiration: now() - 600 }));
  const { keys } = await kv.list({ prefix: "ttl:" });
  const expirations = Object.fromEntries(
    keys.map((k) => [k.name, k.expiration]),
  );
  assert.equal(expirations["ttl:m2m"], token.expiration);
  for (const name of ["ttl:oauth", "ttl:past"]) {
    const at = expirations[name]!;
    assert.ok(at >= now() + 55 && at <= now() + 65, `${name} expires at ${at}`);
  }
  assert.deepEqual(await store.get("oauth"), soon);
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
