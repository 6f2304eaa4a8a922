import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CartoAuth, CredentialsError, MemoryTokenStore } from "../mod.ts";
import { startFakeCarto } from "../src/testing/mod.ts";

async function tempDir(): Promise<string> {
  return await mkdtemp(join(tmpdir(), "carto-auth-m2m-"));
}

test("fromM2M with an object gets a token with client_credentials and the audience", async () => {
  await using fake = await startFakeCarto();
  const auth = await CartoAuth.fromM2M(fake.credentials, {
    endpoints: fake.endpoints,
    useCache: false,
  });
  assert.equal(auth.mode, "m2m");
  assert.equal(auth.getApiBaseUrl(), fake.apiBaseUrl);
  assert.ok(fake.isValidToken(await auth.getAccessToken()));
  const tokenRequests = fake.requests.filter((r) => r.route === "token");
  assert.equal(tokenRequests.length, 1);
  const form = new URLSearchParams(tokenRequests[0].body);
  assert.equal(form.get("grant_type"), "client_credentials");
  assert.equal(form.get("audience"), "carto-cloud-native-api");
  assert.equal(form.get("client_id"), fake.credentials.clientId);
  assert.equal(form.get("client_secret"), fake.credentials.clientSecret);
});

test("fromM2M reads the Python credentials file format", async () => {
  await using fake = await startFakeCarto();
  const file = join(await tempDir(), "carto_credentials.json");
  await writeFile(
    file,
    JSON.stringify({
      api_base_url: fake.apiBaseUrl,
      client_id: fake.credentials.clientId,
      client_secret: fake.credentials.clientSecret,
    }),
    { mode: 0o600 },
  );
  const auth = await CartoAuth.fromM2M(file, {
    endpoints: fake.endpoints,
    useCache: false,
  });
  assert.equal(auth.getApiBaseUrl(), fake.apiBaseUrl);
  assert.equal(fake.count("token"), 1);
});

test("a wrong client secret is a CredentialsError that carries the server's error, not the secret", async () => {
  await using fake = await startFakeCarto();
  const error = await CartoAuth.fromM2M(
    { ...fake.credentials, clientSecret: "wrong-secret-value" },
    { endpoints: fake.endpoints, useCache: false },
  ).then(() => undefined, (e) => e);
  assert.ok(error instanceof CredentialsError);
  assert.equal(error.code, "invalid_credentials");
  assert.equal(error.status, 401);
  assert.equal(error.error, "access_denied");
  assert.match(error.message, /HTTP 401 access_denied: Unauthorized/);
  assert.match(error.message, /Check client_id and client_secret/);
  assert.doesNotMatch(error.message, /wrong-secret-value/);
});

test("an expired M2M token is renewed silently, once for many concurrent callers", async () => {
  await using fake = await startFakeCarto();
  const store = new MemoryTokenStore();
  await store.set("m2m", {
    accessToken: "expired-token",
    expiration: Math.floor(Date.now() / 1000) - 10,
    clientId: fake.credentials.clientId,
  });
  const auth = new CartoAuth({
    mode: "m2m",
    ...fake.credentials,
    endpoints: fake.endpoints,
    store,
  });
  const tokens = await Promise.all(
    Array.from({ length: 50 }, () => auth.getAccessToken()),
  );
  assert.equal(new Set(tokens).size, 1);
  assert.notEqual(tokens[0], "expired-token");
  assert.equal(fake.count("token"), 1);
  assert.equal((await store.get("m2m"))?.accessToken, tokens[0]);
});
