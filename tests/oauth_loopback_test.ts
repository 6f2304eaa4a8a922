/**
 * The loopback login: the authorize URL it sends the browser to, the local
 * server's answers, a denied or abandoned login, a busy port, and a failed
 * token exchange.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CartoAuth } from "../mod.ts";
import { startFakeCarto } from "../src/testing/mod.ts";
import { runtimeServe } from "../src/runtime/serve.ts";
import { authorizeRequest, loopback } from "./oauth_helpers.ts";
import { rejection } from "./rejection.ts";

test("loopback login: the browser gets a one-time local link to an authorize URL with PKCE S256, audience, client id, state and the loopback redirect", async () => {
  await using fake = await startFakeCarto();
  let opened = "";
  const auth = await CartoAuth.fromOAuth({
    ...loopback(fake),
    openBrowser: async (url) => {
      opened = url;
      await fake.browser(url);
    },
  });
  assert.match(opened, /^http:\/\/localhost:\d+\/start\/[A-Za-z0-9_-]{43}$/);
  const url = authorizeRequest(fake);
  assert.equal(url.origin + url.pathname, `${fake.endpoints.auth}/authorize`);
  const q = url.searchParams;
  assert.equal(q.get("client_id"), "0dxb8HR3ATXCxJiPOJVHsLoHoAtbRX6u");
  assert.equal(q.get("response_type"), "code");
  assert.equal(q.get("audience"), "carto-cloud-native-api");
  assert.equal(q.get("code_challenge_method"), "S256");
  assert.match(q.get("code_challenge") ?? "", /^[A-Za-z0-9_-]{43}$/);
  assert.match(q.get("state") ?? "", /^[A-Za-z0-9_-]{20,}$/);
  assert.match(
    q.get("redirect_uri") ?? "",
    new RegExp(`^http://localhost:${new URL(opened).port}/callback/$`),
  );
  assert.equal(q.has("organization"), false);
  // The fake checks the verifier against the challenge and the redirect URI on exchange.
  const exchange = new URLSearchParams(
    fake.requests.find((r) => r.route === "token")!.body,
  );
  assert.equal(exchange.get("grant_type"), "authorization_code");
  assert.equal(exchange.get("redirect_uri"), q.get("redirect_uri"));
  assert.equal(exchange.get("audience"), "carto-cloud-native-api");
  assert.ok(fake.isValidToken(await auth.getAccessToken()));
  assert.equal(auth.getApiBaseUrl(), fake.apiBaseUrl);
});

test("loopback login sends the browser on to CARTO's success page without a Referer", async () => {
  await using fake = await startFakeCarto();
  let landed = "";
  await CartoAuth.fromOAuth({
    ...loopback(fake),
    openBrowser: async (url) => {
      landed = await fake.browser(url);
    },
  });
  assert.equal(landed, "https://app.carto.com/auth/success");
});

test("the loopback server answers 404 elsewhere, refuses a wrong state with a page, and keeps waiting", async () => {
  await using fake = await startFakeCarto();
  const seen: {
    path: string;
    status: number;
    body: string;
    referrer: string | null;
  }[] = [];
  const auth = await CartoAuth.fromOAuth({
    ...loopback(fake),
    openBrowser: async (url) => {
      const callback = new URL(url);
      for (
        const path of [
          "/favicon.ico",
          "/callback/?code=stolen&state=not-the-state",
        ]
      ) {
        const res = await fetch(new URL(path, callback), {
          redirect: "manual",
        });
        seen.push({
          path,
          status: res.status,
          body: await res.text(),
          referrer: res.headers.get("referrer-policy"),
        });
      }
      await fake.browser(url);
    },
  });
  assert.equal(seen[0].status, 404);
  assert.equal(seen[1].status, 400);
  assert.match(seen[1].body, /out of date/);
  assert.doesNotMatch(seen[1].body, /stolen/);
  assert.equal(seen[1].referrer, "no-referrer");
  assert.ok(fake.isValidToken(await auth.getAccessToken()));
  assert.equal(
    fake.count("token"),
    1,
    "the wrong-state code was never exchanged",
  );
});

test("a denied login (error=access_denied) is a CredentialsError with the server's description", async () => {
  await using fake = await startFakeCarto();
  fake.denyNextLogin("User did not authorize the request");
  let landed = "";
  const error = await rejection(CartoAuth.fromOAuth({
    ...loopback(fake),
    openBrowser: async (url) => {
      landed = await fake.browser(url);
    },
  }));
  assert.equal(error.error, "access_denied");
  assert.match(
    error.message,
    /declined .*\(access_denied: User did not authorize/,
  );
  assert.equal(landed, "https://app.carto.com/auth/error");
  assert.equal(fake.count("token"), 0);
});

test("a login nobody completes ends with a clear timeout", async () => {
  await using fake = await startFakeCarto();
  const error = await rejection(CartoAuth.fromOAuth({
    ...loopback(fake),
    openBrowser: () => {},
    loginTimeoutMs: 300,
  }));
  assert.equal(error.code, "timeout");
  assert.match(
    error.message,
    /The login was not completed within 300 ms\. Run the login again/,
  );
});

test("a port in use says so and what to do", async () => {
  await using fake = await startFakeCarto();
  const serve = await runtimeServe();
  const squatter = await serve(
    { hostname: "127.0.0.1", port: 0 },
    () => new Response("someone else"),
  );
  try {
    const error = await rejection(CartoAuth.fromOAuth({
      ...loopback(fake),
      redirectPort: squatter.port,
    }));
    assert.match(
      error.message,
      new RegExp(`Port ${squatter.port} on localhost is already in use`),
    );
    assert.match(error.message, /--no-browser/);
  } finally {
    await squatter.close();
  }
});

test("the token exchange failing is reported with the server's error", async () => {
  await using fake = await startFakeCarto();
  fake.failNext("token", {
    status: 403,
    body: {
      error: "invalid_grant",
      error_description: "Invalid authorization code",
    },
  });
  const error = await rejection(CartoAuth.fromOAuth(loopback(fake)));
  assert.equal(error.status, 403);
  assert.equal(error.error, "invalid_grant");
  assert.match(
    error.message,
    /HTTP 403 invalid_grant: Invalid authorization code/,
  );
});
