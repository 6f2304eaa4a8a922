/**
 * An OAuth session after its login: renewal with the refresh token (or a
 * new login when it is refused), `interactive: false`, and logout with the
 * refresh token revoked.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CartoAuth, MemoryTokenStore } from "../mod.ts";
import { startFakeCarto } from "../src/testing/mod.ts";
import { loopback } from "./oauth_helpers.ts";
import { rejection } from "./rejection.ts";

test("a refresh token is stored and used instead of a new login", async () => {
  await using fake = await startFakeCarto({ refreshTokens: true });
  const store = new MemoryTokenStore();
  let logins = 0;
  const options = {
    ...loopback(fake),
    useCache: true,
    store,
    openBrowser: async (url: string) => {
      logins++;
      await fake.browser(url);
    },
  };
  const first = await CartoAuth.fromOAuth(options);
  const stored = await store.get("oauth");
  assert.match(stored?.refreshToken ?? "", /^rt-/);
  // Expire it: the next call must refresh, not log in.
  await store.set("oauth", {
    ...stored!,
    expiration: Math.floor(Date.now() / 1000) - 1,
  });
  const second = await CartoAuth.fromOAuth(options);
  assert.notEqual(await second.getAccessToken(), await first.getAccessToken());
  assert.equal(logins, 1);
  const grants = fake.requests.filter((r) => r.route === "token").map((r) =>
    new URLSearchParams(r.body).get("grant_type")
  );
  assert.deepEqual(grants, ["authorization_code", "refresh_token"]);
  assert.equal((await store.get("oauth"))?.refreshToken, stored?.refreshToken);
});

test("a refresh token the server refuses falls back to a login", async () => {
  await using fake = await startFakeCarto({ refreshTokens: true });
  let logins = 0;
  const auth = await CartoAuth.fromOAuth({
    ...loopback(fake),
    openBrowser: async (url) => {
      logins++;
      await fake.browser(url);
    },
    store: new MemoryTokenStore(),
  });
  // A token and refresh token that the server never issued.
  const stale = new CartoAuth({
    mode: "oauth",
    endpoints: fake.endpoints,
    apiBaseUrl: fake.apiBaseUrl,
    accessToken: "old",
    expiration: 1,
    refreshToken: "rt-revoked",
    openBrowser: async (url) => {
      logins++;
      await fake.browser(url);
    },
    redirectPort: 0,
    useCache: false,
    log: () => {},
  });
  assert.ok(fake.isValidToken(await stale.getAccessToken()));
  assert.ok(fake.isValidToken(await auth.getAccessToken()));
  assert.equal(logins, 2);
});

test("interactive: false never logs in: login_required", async () => {
  await using fake = await startFakeCarto();
  let opened = false;
  const error = await rejection(CartoAuth.fromOAuth({
    ...loopback(fake),
    interactive: false,
    openBrowser: () => {
      opened = true;
    },
  }));
  assert.equal(error.code, "login_required");
  assert.match(error.message, /carto-auth login/);
  assert.equal(opened, false);
});

test("logout removes the cached token and revokes the refresh token", async () => {
  await using fake = await startFakeCarto({ refreshTokens: true });
  const store = new MemoryTokenStore();
  const auth = await CartoAuth.fromOAuth({
    ...loopback(fake),
    useCache: true,
    store,
  });
  const refreshToken = (await store.get("oauth"))!.refreshToken!;
  await auth.logout();
  assert.equal(await store.get("oauth"), undefined);
  const revoke = fake.requests.find((r) => r.route === "revoke");
  assert.equal(new URLSearchParams(revoke!.body).get("token"), refreshToken);
  // The revoked refresh token no longer works: the next renewal is a new login.
  let logins = 0;
  const stale = new CartoAuth({
    ...loopback(fake),
    mode: "oauth",
    accessToken: "old",
    expiration: 1,
    refreshToken,
    openBrowser: (url) => (logins++, fake.browser(url)),
  });
  await stale.getAccessToken();
  assert.equal(logins, 1);
});

test("logout still logs out locally when the revocation fails, and says so", async () => {
  await using fake = await startFakeCarto({ refreshTokens: true });
  const store = new MemoryTokenStore();
  const messages: string[] = [];
  const auth = await CartoAuth.fromOAuth({
    ...loopback(fake),
    useCache: true,
    store,
    log: (m) => messages.push(m),
  });
  fake.failNext("revoke", { status: 400, body: { error: "invalid_request" } });
  await auth.logout();
  assert.equal(await store.get("oauth"), undefined);
  assert.match(
    messages.join("\n"),
    /logged out here, but the refresh token could not be revoked/,
  );
});
