/**
 * Redirect hygiene of `auth.fetch` against a hostile or compromised API
 * (issue 11, items 2 and 8): only http(s) is followed, the token never goes
 * back once a chain has left the API's origin, credentials headers stay with
 * the API, and a third party's 401 does not renew the token.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { CartoAuth } from "../mod.ts";
import { type FakeCarto, startFakeCarto } from "../src/testing/mod.ts";
import { rejection } from "./rejection.ts";

const m2m = (fake: FakeCarto) =>
  CartoAuth.fromM2M(fake.credentials, {
    endpoints: fake.endpoints,
    useCache: false,
  });

const lastRequest = (fake: FakeCarto) =>
  fake.requests[fake.requests.length - 1];

const redirectTo = (location: string, status = 302) => () =>
  new Response(null, { status, headers: { location } });

const QUERY = "/v3/sql/carto_dw/query?q=select%201%20as%20n";

test("a redirect to a file: or data: URL is refused, never read", async () => {
  await using fake = await startFakeCarto();
  const dir = await mkdtemp(join(tmpdir(), "carto-redirect-"));
  try {
    const secret = join(dir, "passwd");
    await writeFile(secret, "root:x:0:0:local-secret-marker\n");
    const auth = await m2m(fake);
    for (
      const location of [
        pathToFileURL(secret).href,
        "data:text/plain,local-secret-marker",
      ]
    ) {
      fake.failNext("sql", redirectTo(location));
      const error = await rejection(auth.fetch(QUERY));
      assert.equal(error.code, "bad_response");
      assert.match(error.message, /only http\(s\) redirects are followed/);
      assert.doesNotMatch(error.message, /local-secret-marker/);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("once a chain has left the API's origin, the token is not sent when it comes back", async () => {
  await using fake = await startFakeCarto();
  await using other = await startFakeCarto();
  const auth = await m2m(fake);
  const tokenRequests = fake.count("token");
  fake.failNext("sql", redirectTo(`${other.apiBaseUrl}${QUERY}`));
  other.failNext("sql", redirectTo(`${fake.apiBaseUrl}${QUERY}`));
  const res = await auth.fetch(QUERY);
  await res.body?.cancel();
  assert.equal(res.status, 401, "the API saw no token on the way back");
  assert.equal(lastRequest(other).headers.get("authorization"), null);
  assert.equal(lastRequest(fake).headers.get("authorization"), null);
  assert.equal(fake.count("token"), tokenRequests, "no renewal");
});

test("Cookie and Proxy-Authorization are not forwarded to another origin", async () => {
  await using fake = await startFakeCarto();
  await using other = await startFakeCarto();
  const auth = await m2m(fake);
  fake.failNext("sql", redirectTo(`${other.url}/elsewhere`, 307));
  const res = await auth.fetch(QUERY, {
    headers: {
      cookie: "session=api-cookie",
      "proxy-authorization": "Basic cHJveHk6c2VjcmV0",
      "x-trace": "abc",
    },
  });
  await res.body?.cancel();
  const first = fake.requests.findLast((r) => r.route === "sql")!;
  assert.equal(first.headers.get("cookie"), "session=api-cookie");
  const seen = lastRequest(other);
  assert.equal(seen.path, "/elsewhere");
  assert.equal(seen.headers.get("authorization"), null);
  assert.equal(seen.headers.get("cookie"), null);
  assert.equal(seen.headers.get("proxy-authorization"), null);
  assert.equal(seen.headers.get("x-trace"), "abc", "other headers go on");
});

test("a third party's 401 after a redirect does not renew the token", async () => {
  await using fake = await startFakeCarto();
  await using other = await startFakeCarto();
  const auth = await m2m(fake);
  const token = await auth.getAccessToken();
  const tokenRequests = fake.count("token");
  fake.failNext("sql", redirectTo(`${other.apiBaseUrl}${QUERY}`));
  const res = await auth.fetch(QUERY);
  await res.body?.cancel();
  assert.equal(res.status, 401);
  assert.equal(fake.count("token"), tokenRequests, "no renewal");
  assert.equal(await auth.getAccessToken(), token);
});

test("a 303 after a POST is followed as a GET without the body or its headers", async () => {
  await using fake = await startFakeCarto();
  const auth = await m2m(fake);
  fake.failNext("sql", redirectTo(`${fake.apiBaseUrl}${QUERY}`, 303));
  const res = await auth.fetch("/v3/sql/carto_dw/query", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ q: "select 2 as n" }),
  });
  assert.deepEqual((await res.json()).rows, [{ n: 1 }]);
  const seen = lastRequest(fake);
  assert.equal(seen.method, "GET");
  assert.equal(seen.body, "");
  assert.equal(seen.headers.get("content-type"), null);
  assert.ok(seen.headers.get("authorization")?.startsWith("Bearer "));
});
