/**
 * The library against a real, certified authorization server
 * (`oidc-provider`, see tests/oidc_provider.ts): login, refresh with
 * rotation, logout, paste, M2M. Every assertion is made on what the server
 * recorded — its grants, events and introspection — not on our own fake.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CartoAuth, MemoryTokenStore } from "../mod.ts";
import { AUDIENCE, OAUTH_CLIENT_ID } from "../src/endpoints.ts";
import { walkLogin } from "./oidc_browser.ts";
import { type OidcProvider, startOidcProvider } from "./oidc_provider.ts";
import { rejection } from "./rejection.ts";

/** No discovery: the API base URL is given (the server is only the login service). */
const API_BASE_URL = "http://127.0.0.1:9/api";

function oauthOptions(op: OidcProvider, store = new MemoryTokenStore()) {
  return {
    endpoints: { auth: op.auth },
    apiBaseUrl: API_BASE_URL,
    redirectPort: 0,
    store,
    // Tokens live 60 s: renew only when they are really expired.
    leewaySeconds: 0,
    log: () => {},
    openBrowser: (url: string) => op.browser(url),
  };
}

/** A session whose token the server issued, and whose next `getAccessToken` refreshes. */
async function loggedIn(op: OidcProvider, store = new MemoryTokenStore()) {
  await CartoAuth.fromOAuth(oauthOptions(op, store));
  const saved = (await store.get("oauth"))!;
  await store.set("oauth", { ...saved, expiration: 1 });
  return { store, saved };
}

test("real server: a loopback login gets a token the server issued for CARTO's API, to the public client, with PKCE", async () => {
  await using op = await startOidcProvider();
  let landed = "";
  const store = new MemoryTokenStore();
  const auth = await CartoAuth.fromOAuth({
    ...oauthOptions(op, store),
    // The server requires PKCE (S256) of this client.
    openBrowser: async (url) => {
      landed = await op.browser(url, { user: "jane" });
    },
  });
  assert.equal(landed, "https://app.carto.com/auth/success");
  const token = await op.introspect(await auth.getAccessToken());
  assert.equal(token.active, true);
  assert.equal(token.sub, "jane");
  assert.equal(token.client_id, OAUTH_CLIENT_ID);
  assert.equal(token.aud, AUDIENCE);
  assert.equal(token.iss, op.issuer);
  const grants = await op.grants();
  assert.deepEqual(grants.map((g) => [g.accountId, g.clientId]), [
    ["jane", OAUTH_CLIENT_ID],
  ]);
  // offline_access was granted: the refresh token is live on the server.
  const refresh = await op.introspect(
    (await store.get("oauth"))!.refreshToken!,
  );
  assert.equal(refresh.active, true);
});

test("real server: a refresh rotates the refresh token; the old one is spent, the grant lives on", async () => {
  await using op = await startOidcProvider();
  const { store, saved } = await loggedIn(op);
  const auth = new CartoAuth({ ...oauthOptions(op, store), mode: "oauth" });
  const token = await auth.getAccessToken();
  assert.notEqual(token, saved.accessToken);
  assert.equal((await op.introspect(token)).active, true);
  const rotated = (await store.get("oauth"))!.refreshToken!;
  assert.notEqual(rotated, saved.refreshToken);
  assert.equal((await op.introspect(rotated)).active, true);
  assert.equal((await op.introspect(saved.refreshToken!)).active, false);
  assert.equal(op.count("refresh_token.consumed"), 1);
  assert.equal(op.count("grant.revoked"), 0);
  assert.equal((await op.grants()).length, 1);
});

test("real server: two instances sharing a store renew once; rotation's reuse detection never fires", async () => {
  await using op = await startOidcProvider();
  const { store } = await loggedIn(op);
  const make = () =>
    new CartoAuth({
      ...oauthOptions(op, store),
      mode: "oauth",
      interactive: false,
    });
  const [a, b] = await Promise.all(
    [make(), make()].map((auth) => auth.getAccessToken()),
  );
  assert.equal(a, b);
  assert.equal(op.count("refresh_token.consumed"), 1);
  assert.equal(op.count("grant.revoked"), 0);
  assert.equal((await op.introspect(a)).active, true);
  const current = (await store.get("oauth"))!.refreshToken!;
  assert.equal((await op.introspect(current)).active, true);
});

test("real server: a refresh whose answer is lost is not sent again, so the server never sees a reuse", async () => {
  await using op = await startOidcProvider();
  const { store } = await loggedIn(op);
  op.dropNextAnswer("refresh_token");
  const auth = new CartoAuth({
    ...oauthOptions(op, store),
    mode: "oauth",
    interactive: false,
  });
  const error = await rejection(auth.getAccessToken());
  assert.equal(error.code, "network");
  assert.match(error.message, /A refresh token works only once/);
  // The server rotated it once; nothing was reused, so the grant is intact.
  assert.equal(op.count("refresh_token.consumed"), 1);
  assert.equal(op.count("grant.revoked"), 0);
  assert.equal((await op.grants()).length, 1);
  assert.equal((await store.get("oauth"))?.refreshToken, undefined);
});

test("real server: a code exchange whose answer is lost starts a fresh authorization; the spent code is never replayed", async () => {
  await using op = await startOidcProvider();
  op.dropNextAnswer("authorization_code");
  let authorizations = 0;
  const auth = await CartoAuth.fromOAuth({
    ...oauthOptions(op),
    openBrowser: (url) => (authorizations++, op.browser(url)),
  });
  assert.equal(authorizations, 2);
  assert.equal((await op.introspect(await auth.getAccessToken())).active, true);
  // A replayed code is an invalid_grant that also revokes what the code gave.
  assert.equal(op.count("grant.error"), 0);
  assert.equal(op.count("grant.revoked"), 0);
  assert.equal(op.count("grant.success"), 2);
});

test("real server: logout revokes the login on the server", async () => {
  await using op = await startOidcProvider();
  const store = new MemoryTokenStore();
  const auth = await CartoAuth.fromOAuth(oauthOptions(op, store));
  const { refreshToken, accessToken } = (await store.get("oauth"))!;
  assert.equal((await op.introspect(accessToken)).active, true);
  await auth.logout();
  assert.equal(await store.get("oauth"), undefined);
  // Revoking the refresh token revokes the grant, with its access tokens.
  assert.equal(op.count("grant.revoked"), 1);
  assert.equal((await op.introspect(refreshToken!)).active, false);
  assert.equal((await op.introspect(accessToken)).active, false);
  assert.deepEqual(await op.grants(), []);
});

test("real server: the paste flow's code is exchanged with the paste redirect URI", async () => {
  await using op = await startOidcProvider();
  let pasted = "";
  const auth = await CartoAuth.fromOAuth({
    ...oauthOptions(op),
    openBrowser: false,
    prompt: async (message) => (pasted = await op.paste(message)),
  });
  const url = new URL(pasted);
  assert.equal(url.origin + url.pathname, "https://app.carto.com/auth/token");
  assert.equal(url.searchParams.get("iss"), op.issuer);
  const token = await op.introspect(await auth.getAccessToken());
  assert.equal(token.active, true);
  assert.equal(token.client_id, OAUTH_CLIENT_ID);
});

test("real server: M2M client credentials get a token for CARTO's API", async () => {
  await using op = await startOidcProvider();
  const auth = await CartoAuth.fromM2M({
    apiBaseUrl: API_BASE_URL,
    ...op.m2m,
  }, { endpoints: { auth: op.auth }, useCache: false });
  const token = await op.introspect(await auth.getAccessToken());
  assert.equal(token.active, true);
  assert.equal(token.client_id, op.m2m.clientId);
  assert.equal(token.aud, AUDIENCE);
  const refused = await rejection(CartoAuth.fromM2M({
    apiBaseUrl: API_BASE_URL,
    clientId: op.m2m.clientId,
    clientSecret: "wrong",
  }, { endpoints: { auth: op.auth }, useCache: false }));
  assert.equal(refused.code, "invalid_credentials");
  assert.match(refused.message, /Check client_id and client_secret/);
});

test("real server: consent declined says so; no grant is left", async () => {
  await using op = await startOidcProvider();
  const error = await rejection(CartoAuth.fromOAuth({
    ...oauthOptions(op),
    openBrowser: (url) => op.browser(url, { decline: true }),
  }));
  assert.equal(error.error, "access_denied");
  assert.match(error.message, /declined/);
  assert.doesNotMatch(error.message, /Log in again/);
  assert.equal(op.count("grant.success"), 0);
});

test("real server: a client without offline access is refused invalid_scope, and the error says what to do", async () => {
  await using op = await startOidcProvider({ offlineAccess: false });
  const error = await rejection(CartoAuth.fromOAuth(oauthOptions(op)));
  assert.equal(error.error, "invalid_scope");
  assert.match(error.message, /offline_access/);
  assert.match(error.message, /Ask your CARTO administrator/);
  assert.equal(op.count("grant.success"), 0);
});

test("real server: its RFC 9207 iss is checked: the same server under another name is an issuer mismatch", async () => {
  await using op = await startOidcProvider();
  const other = op.auth.replace("127.0.0.1", "localhost");
  const error = await rejection(CartoAuth.fromOAuth({
    ...oauthOptions(op),
    endpoints: { auth: other },
    openBrowser: (url) => walkLogin(op.auth, url, { alias: other }),
    loginTimeoutMs: 20_000,
  }));
  assert.equal(error.error, "issuer_mismatch");
  assert.match(error.message, new RegExp(`expected ${other}/`));
  assert.equal(op.count("grant.success"), 0, "the code was not exchanged");
});
