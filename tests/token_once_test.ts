/**
 * An authorization code and a refresh token are sent at most once: when the
 * answer is lost after the server processed the request, the request is not
 * repeated. A lost code exchange starts one fresh authorization; a lost
 * refresh forgets the refresh token and says so. Client credentials keep
 * their retries.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CartoAuth, MemoryTokenStore } from "../mod.ts";
import { startFakeCarto } from "../src/testing/mod.ts";
import { startDroppingProxy } from "./dropping_proxy.ts";
import { rejection } from "./rejection.ts";

type Fake = Awaited<ReturnType<typeof startFakeCarto>>;

/** The form bodies of the token requests that reached the fake with `grant`. */
function grants(fake: Fake, grant: string): URLSearchParams[] {
  return fake.requests
    .filter((r) => r.route === "token")
    .map((r) => new URLSearchParams(r.body))
    .filter((form) => form.get("grant_type") === grant);
}

function assertNoneTwice(forms: URLSearchParams[], field: string) {
  const values = forms.map((f) => f.get(field));
  assert.equal(new Set(values).size, values.length, `a ${field} sent twice`);
}

/** The fake's endpoints with the login service behind `proxy`. */
function behind(fake: Fake, proxyOrigin: string) {
  const origin = new URL(fake.endpoints.auth).origin;
  return {
    ...fake.endpoints,
    auth: fake.endpoints.auth.replace(origin, proxyOrigin),
  };
}

const isTokenRequest = (grant: string) =>
(
  r: { method: string; path: string; form: URLSearchParams },
) => r.path.endsWith("/oauth/token") && r.form.get("grant_type") === grant;

test("a code exchange whose answer is lost is not repeated: one fresh authorization, then logged in", async () => {
  await using fake = await startFakeCarto();
  let drops = 1;
  await using proxy = await startDroppingProxy(
    new URL(fake.endpoints.auth).origin,
    (r) => isTokenRequest("authorization_code")(r) && drops-- > 0,
  );
  const messages: string[] = [];
  let authorizations = 0;
  const auth = await CartoAuth.fromOAuth({
    endpoints: behind(fake, proxy.origin),
    apiBaseUrl: fake.apiBaseUrl,
    redirectPort: 0,
    useCache: false,
    log: (m) => messages.push(m),
    openBrowser: (url) => (authorizations++, fake.browser(url)),
  });
  assert.ok(fake.isValidToken(await auth.getAccessToken()));
  assert.equal(proxy.dropped.length, 1);
  const exchanges = grants(fake, "authorization_code");
  assert.equal(exchanges.length, 2);
  assertNoneTwice(exchanges, "code");
  assert.equal(authorizations, 2);
  assert.match(messages.join("\n"), /a login code works only once/);
});

test("a code exchange lost twice ends with a clear error, each code sent once", async () => {
  await using fake = await startFakeCarto();
  await using proxy = await startDroppingProxy(
    new URL(fake.endpoints.auth).origin,
    isTokenRequest("authorization_code"),
  );
  const error = await rejection(CartoAuth.fromOAuth({
    endpoints: behind(fake, proxy.origin),
    apiBaseUrl: fake.apiBaseUrl,
    redirectPort: 0,
    useCache: false,
    log: () => {},
    openBrowser: fake.browser,
  }));
  assert.equal(error.code, "network");
  assert.match(
    error.message,
    /A login code works only once and may already be spent, so it was not sent again\. Run the login again\./,
  );
  const exchanges = grants(fake, "authorization_code");
  assert.equal(exchanges.length, 2);
  assertNoneTwice(exchanges, "code");
});

test("a code exchange answered 502 is not repeated either", async () => {
  await using fake = await startFakeCarto();
  fake.failNext("token", { status: 502, body: { error: "bad_gateway" } }, 2);
  const error = await rejection(CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    redirectPort: 0,
    useCache: false,
    log: () => {},
    openBrowser: fake.browser,
  }));
  assert.equal(error.code, "server_error");
  assert.equal(error.status, 502);
  assert.match(error.message, /login code works only once/);
  assertNoneTwice(grants(fake, "authorization_code"), "code");
});

test("a refresh whose answer is lost is not repeated: the refresh token is forgotten, the next call logs in", async () => {
  await using fake = await startFakeCarto({ refreshTokens: true });
  await using proxy = await startDroppingProxy(
    new URL(fake.endpoints.auth).origin,
    isTokenRequest("refresh_token"),
  );
  const store = new MemoryTokenStore();
  let logins = 0;
  const options = {
    endpoints: behind(fake, proxy.origin),
    apiBaseUrl: fake.apiBaseUrl,
    redirectPort: 0,
    store,
    log: () => {},
    openBrowser: (url: string) => (logins++, fake.browser(url)),
  };
  await CartoAuth.fromOAuth(options);
  const saved = (await store.get("oauth"))!;
  assert.ok(saved.refreshToken);
  await store.set("oauth", { ...saved, expiration: 1 });
  const auth = new CartoAuth({ ...options, mode: "oauth" });
  const error = await rejection(auth.getAccessToken());
  assert.equal(error.code, "network");
  assert.match(
    error.message,
    /A refresh token works only once and may already be spent, so it was not sent again\. It is forgotten: log in again/,
  );
  assert.ok(!error.message.includes(saved.refreshToken!));
  assert.equal(grants(fake, "refresh_token").length, 1);
  assert.equal((await store.get("oauth"))?.refreshToken, undefined);
  // The next call cannot refresh: it logs in instead of sending the token again.
  assert.ok(fake.isValidToken(await auth.getAccessToken()));
  assert.equal(grants(fake, "refresh_token").length, 1);
  assert.equal(logins, 2);
});

test("a refresh that could not connect at all keeps its refresh token", async () => {
  await using fake = await startFakeCarto({ refreshTokens: true });
  const store = new MemoryTokenStore();
  await CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    redirectPort: 0,
    store,
    log: () => {},
    openBrowser: fake.browser,
  });
  const saved = (await store.get("oauth"))!;
  await store.set("oauth", { ...saved, expiration: 1 });
  // A port nobody listens on: the connection is refused, nothing was sent.
  await using closed = await startDroppingProxy(
    fake.endpoints.auth,
    () => false,
  );
  const nowhere = closed.origin;
  await closed.close();
  const auth = new CartoAuth({
    mode: "oauth",
    endpoints: { ...fake.endpoints, auth: nowhere },
    apiBaseUrl: fake.apiBaseUrl,
    store,
    interactive: false,
    log: () => {},
  });
  const error = await rejection(auth.getAccessToken());
  assert.equal(error.code, "network");
  assert.doesNotMatch(error.message, /works only once/);
  assert.equal((await store.get("oauth"))?.refreshToken, saved.refreshToken);
});

test("client credentials keep their retries after a dropped answer", async () => {
  await using fake = await startFakeCarto();
  let drops = 1;
  await using proxy = await startDroppingProxy(
    new URL(fake.endpoints.auth).origin,
    (r) => isTokenRequest("client_credentials")(r) && drops-- > 0,
  );
  const auth = await CartoAuth.fromM2M(fake.credentials, {
    endpoints: behind(fake, proxy.origin),
    useCache: false,
  });
  assert.ok(fake.isValidToken(await auth.getAccessToken()));
  assert.equal(grants(fake, "client_credentials").length, 2);
});
