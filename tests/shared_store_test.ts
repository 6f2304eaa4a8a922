/**
 * `CartoAuth` instances of one process that share a token store share one
 * renewal, whatever the store: the later ones find the new token in the
 * store instead of spending the (rotating) refresh token again.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CartoAuth, MemoryTokenStore } from "../mod.ts";
import { startFakeCarto } from "../src/testing/mod.ts";

type Fake = Awaited<ReturnType<typeof startFakeCarto>>;

function grantsSent(fake: Fake, grant: string): number {
  return fake.requests.filter((r) =>
    r.route === "token" &&
    new URLSearchParams(r.body).get("grant_type") === grant
  ).length;
}

test("two OAuth instances sharing a memory store renew with one refresh", async () => {
  await using fake = await startFakeCarto({ refreshTokens: true });
  const store = new MemoryTokenStore();
  const options = {
    endpoints: fake.endpoints,
    apiBaseUrl: fake.apiBaseUrl,
    redirectPort: 0,
    store,
    log: () => {},
    openBrowser: fake.browser,
  };
  await CartoAuth.fromOAuth(options);
  const saved = (await store.get("oauth"))!;
  await store.set("oauth", { ...saved, expiration: 1 });
  const a = new CartoAuth({ ...options, mode: "oauth", interactive: false });
  const b = new CartoAuth({ ...options, mode: "oauth", interactive: false });
  const [ta, tb] = await Promise.all([a.getAccessToken(), b.getAccessToken()]);
  assert.equal(grantsSent(fake, "refresh_token"), 1);
  assert.equal(ta, tb);
  assert.ok(fake.isValidToken(ta));
});

test("two M2M instances sharing a memory store ask for one token", async () => {
  await using fake = await startFakeCarto();
  const store = new MemoryTokenStore();
  const make = () =>
    CartoAuth.fromM2M(fake.credentials, { endpoints: fake.endpoints, store });
  const [a, b] = await Promise.all([make(), make()]);
  assert.equal(grantsSent(fake, "client_credentials"), 1);
  assert.equal(await a.getAccessToken(), await b.getAccessToken());
});

test("instances with separate stores do not wait for each other", async () => {
  await using fake = await startFakeCarto();
  const make = () =>
    CartoAuth.fromM2M(fake.credentials, {
      endpoints: fake.endpoints,
      store: new MemoryTokenStore(),
    });
  await Promise.all([make(), make()]);
  assert.equal(grantsSent(fake, "client_credentials"), 2);
});
