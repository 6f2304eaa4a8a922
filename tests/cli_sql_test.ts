/**
 * `carto-auth sql` (the CARTO SQL API: GET or POST, SQL from stdin, its
 * errors), and tokens the API refuses, CARTO_API_TOKEN included, for `sql`
 * and `dw`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { m2mSetup } from "./cli_helpers.ts";

test("sql runs a short query with GET on the connection and prints TSV when piped", async () => {
  await using s = await m2mSetup();
  const run = await s.q(["sql", "carto_dw", "SELECT 1 AS n, 'x' AS s"]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "n\ts\n1\tx\n");
  const req = s.fake.requests.find((r) => r.route === "sql")!;
  assert.equal(req.method, "GET");
  const url = new URL(req.path, s.fake.url);
  assert.equal(url.pathname, "/api/v3/sql/carto_dw/query");
  assert.equal(url.searchParams.get("q"), "SELECT 1 AS n, 'x' AS s");
  assert.match(req.headers.get("authorization") ?? "", /^Bearer /);
});

test("sql sends a long query with POST", async () => {
  await using s = await m2mSetup();
  const long = `SELECT '${"x".repeat(3000)}' AS s`;
  const run = await s.q(["sql", "carto_dw", long, "--format", "ndjson"]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).s.length, 3000);
  const req = s.fake.requests.find((r) => r.route === "sql")!;
  assert.equal(req.method, "POST");
  assert.equal(JSON.parse(req.body).q, long);
});

test("sql reads SQL from stdin and prints csv", async () => {
  await using s = await m2mSetup();
  const run = await s.q(
    ["sql", "carto_dw", "-", "--format", "csv"],
    "SELECT 2 AS two, true AS t",
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "two,t\n2,true\n");
});

test("sql shows the SQL API's error (exit 1)", async () => {
  await using s = await m2mSetup();
  const run = await s.q(["sql", "carto_dw", "SELEC 1"]);
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    /CARTO SQL API \(.*\/api\/v3\/sql\/carto_dw\/query\) answered HTTP 400 Syntax error/,
  );
});

test("sql usage errors: missing connection or SQL", async () => {
  await using s = await m2mSetup();
  for (const args of [[], ["carto_dw"]]) {
    const run = await s.q(["sql", ...args]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /missing CONNECTION and SQL/);
    assert.match(run.stderr, /carto-auth sql --help/);
  }
});

test("a token the API refuses, even after renewal, is exit 4", async () => {
  await using s = await m2mSetup();
  s.fake.failNext("sql", { status: 401, body: { error: "Unauthorized" } }, 2);
  const run = await s.q(["sql", "carto_dw", "SELECT 1 AS n"]);
  assert.equal(run.code, 4);
  assert.match(run.stderr, /HTTP 401/);
});

test("CARTO_API_TOKEN is used as is by dw and sql, and the API base URL is looked up", async () => {
  await using s = await m2mSetup();
  const token = (await s.q(["token"])).stdout.trim();
  const env = { CARTO_API_TOKEN: token };
  const sql = await s.run(["sql", "carto_dw", "SELECT 3 AS n", "--json"], {
    env,
  });
  assert.equal(sql.code, 0, sql.stderr);
  assert.deepEqual(JSON.parse(sql.stdout), [{ n: 3 }]);
  assert.equal(s.fake.count("accounts"), 1);
  const dw = await s.run(["dw", "query", "SELECT 4 AS n", "--json"], {
    env: { ...env, CARTO_API_BASE_URL: s.fake.apiBaseUrl },
  });
  assert.equal(dw.code, 0, dw.stderr);
  assert.deepEqual(JSON.parse(dw.stdout), [{ n: 4 }]);
  assert.equal(s.fake.count("accounts"), 1);
  assert.equal(s.fake.count("token"), 1);
});

test("a refused CARTO_API_TOKEN says to replace or unset it (exit 4)", async () => {
  await using s = await m2mSetup();
  const run = await s.run(["sql", "carto_dw", "SELECT 1 AS n"], {
    env: {
      CARTO_API_TOKEN: "not-a-valid-token",
      CARTO_API_BASE_URL: s.fake.apiBaseUrl,
    },
  });
  assert.equal(run.code, 4);
  assert.match(run.stderr, /CARTO_API_TOKEN was refused or has expired/);
  assert.doesNotMatch(run.stderr, /not-a-valid-token/);
});
