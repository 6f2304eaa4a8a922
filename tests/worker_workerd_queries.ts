/**
 * What the example worker's SQL routes accept, in real workerd (miniflare)
 * against the fake CARTO: no SQL from a GET, another site or a form; bytes
 * billed and rows capped, rows streamed page by page; long queries in a POST
 * body; named queries with their values as query parameters. Run by the
 * `integration` run of scripts/test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { get, post, q, stoppedAfterTests, wireRows } from "./worker_harness.ts";
import { NAMED_QUERIES } from "../examples/cloudflare-worker/src/queries.ts";

const { worker, fakeCarto } = stoppedAfterTests();

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
