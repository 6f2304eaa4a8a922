import { test } from "node:test";
import assert from "node:assert/strict";
import { CartoAuth, CredentialsError } from "../mod.ts";
import { type FakeCarto, startFakeCarto } from "../src/testing/mod.ts";

const m2m = (fake: FakeCarto) =>
  CartoAuth.fromM2M(fake.credentials, {
    endpoints: fake.endpoints,
    useCache: false,
  });

const lastRequest = (fake: FakeCarto) =>
  fake.requests[fake.requests.length - 1];

test("fetch appends a path to an API base URL that has a path, with the bearer token", async () => {
  await using fake = await startFakeCarto();
  const auth = await m2m(fake);
  assert.match(auth.getApiBaseUrl()!, /\/api$/);
  const res = await auth.fetch("/v3/sql/carto_dw/query?q=select%201%20as%20n");
  assert.equal(res.status, 200);
  assert.deepEqual((await res.json()).rows, [{ n: 1 }]);
  const seen = lastRequest(fake);
  assert.equal(seen.path, "/api/v3/sql/carto_dw/query?q=select%201%20as%20n");
  assert.equal(
    seen.headers.get("authorization"),
    `Bearer ${await auth.getAccessToken()}`,
  );
});

test("fetch keeps the caller's method, headers and body", async () => {
  await using fake = await startFakeCarto();
  const auth = await m2m(fake);
  const res = await auth.fetch("/v3/sql/carto_dw/query", {
    method: "POST",
    headers: { "content-type": "application/json", "x-trace": "abc" },
    body: JSON.stringify({ q: "select 'a' as s" }),
  });
  assert.deepEqual((await res.json()).rows, [{ s: "a" }]);
  const seen = lastRequest(fake);
  assert.equal(seen.method, "POST");
  assert.equal(seen.headers.get("x-trace"), "abc");
  assert.ok(seen.headers.get("authorization")?.startsWith("Bearer "));
});

test("fetch never sends the token to another origin", async () => {
  await using fake = await startFakeCarto();
  await using other = await startFakeCarto();
  const auth = await m2m(fake);
  const res = await auth.fetch(
    `${other.url}/api/v3/sql/x/query?q=select%201%20as%20n`,
  );
  assert.equal(res.status, 401, "the other origin sees no token");
  assert.equal(lastRequest(other).headers.get("authorization"), null);
});

test("a redirect to another origin is followed without the token; same origin keeps it", async () => {
  await using fake = await startFakeCarto();
  await using other = await startFakeCarto();
  const auth = await m2m(fake);
  fake.failNext("sql", () => Response.redirect(`${other.url}/landing`, 302));
  await (await auth.fetch("/v3/sql/carto_dw/query?q=select%201%20as%20n")).body
    ?.cancel();
  assert.equal(lastRequest(other).path, "/landing");
  assert.equal(lastRequest(other).headers.get("authorization"), null);

  fake.failNext(
    "sql",
    () =>
      Response.redirect(
        `${fake.apiBaseUrl}/v3/sql/b/query?q=select%202%20as%20n`,
        302,
      ),
  );
  const res = await auth.fetch("/v3/sql/a/query?q=select%201%20as%20n");
  assert.deepEqual((await res.json()).rows, [{ n: 2 }]);
  assert.ok(
    lastRequest(fake).headers.get("authorization")?.startsWith("Bearer "),
  );
});

test("a 401 renews the token once and retries; a second 401 is returned", async () => {
  await using fake = await startFakeCarto();
  const auth = await m2m(fake);
  const before = await auth.getAccessToken();
  fake.revokeTokens();
  const res = await auth.fetch("/v3/sql/carto_dw/query?q=select%201%20as%20n");
  assert.equal(res.status, 200);
  assert.notEqual(await auth.getAccessToken(), before);
  assert.equal(fake.count("token"), 2);

  fake.failNext("sql", { status: 401, body: { error: "Unauthorized" } }, 2);
  const denied = await auth.fetch(
    "/v3/sql/carto_dw/query?q=select%201%20as%20n",
  );
  assert.equal(denied.status, 401);
  assert.equal(fake.count("token"), 3, "one renewal, no loop");
});

test("a relative path without a known API base URL is a CredentialsError", async () => {
  const auth = new CartoAuth({
    mode: "oauth",
    accessToken: "t",
    useCache: false,
  });
  await assert.rejects(
    () => auth.fetch("/v3/anything"),
    (e) =>
      e instanceof CredentialsError && /api_base_url required/.test(e.message),
  );
});

test("a given token is used as is and not renewed while valid", async () => {
  await using fake = await startFakeCarto();
  const seed = await m2m(fake);
  const token = await seed.getAccessToken();
  const auth = new CartoAuth({
    mode: "oauth",
    apiBaseUrl: fake.apiBaseUrl,
    accessToken: token,
    endpoints: fake.endpoints,
    useCache: false,
    interactive: false,
  });
  // No expiration given: taken from the JWT's exp claim.
  assert.ok(Math.abs(auth.expiration! - (Date.now() / 1000 + 3600)) < 5);
  const res = await auth.fetch("/v3/sql/carto_dw/query?q=select%201%20as%20n");
  assert.equal(res.status, 200);
  assert.equal(fake.count("token"), 1);
});

test("querySql: short queries go as GET, long ones as POST, both with the token", async () => {
  await using fake = await startFakeCarto();
  const auth = await m2m(fake);
  const short = await auth.querySql("carto_dw", "SELECT 1 AS n");
  assert.deepEqual(short.rows, [{ n: 1 }]);
  assert.deepEqual(short.schema, [{ name: "n", type: "integer" }]);
  assert.equal(lastRequest(fake).method, "GET");

  const long = `SELECT '${"x".repeat(3000)}' AS s`;
  const posted = await auth.querySql("carto_dw", long);
  assert.equal((posted.rows[0].s as string).length, 3000);
  const seen = lastRequest(fake);
  assert.equal(seen.method, "POST");
  assert.equal(JSON.parse(seen.body).q, long);
  assert.ok(seen.headers.get("authorization")?.startsWith("Bearer "));
});

test("querySql: a SQL error carries the API's message; a 503 on GET is retried", async () => {
  await using fake = await startFakeCarto();
  const auth = await m2m(fake);
  await assert.rejects(
    () => auth.querySql("carto_dw", "SELEC nonsense"),
    (e) =>
      e instanceof CredentialsError &&
      /CARTO SQL API \(.*\/api\/v3\/sql\/carto_dw\/query\) answered HTTP 400 Syntax error/
        .test(
          e.message,
        ),
  );
  fake.failNext("sql", { status: 503, body: { error: "busy" } });
  const { rows } = await auth.querySql("carto_dw", "SELECT 2 AS n");
  assert.deepEqual(rows, [{ n: 2 }]);
});

test("fetch retries a GET on 503, but never a POST", async () => {
  await using fake = await startFakeCarto();
  const auth = await m2m(fake);
  fake.failNext("sql", { status: 503, body: { error: "busy" } });
  const got = await auth.fetch("/v3/sql/carto_dw/query?q=select%201%20as%20n");
  assert.equal(got.status, 200);
  fake.failNext("sql", { status: 503, body: { error: "busy" } });
  const posted = await auth.fetch("/v3/sql/carto_dw/query", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ q: "select 1 as n" }),
  });
  assert.equal(posted.status, 503);
  await posted.body?.cancel();
});
