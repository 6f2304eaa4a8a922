import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setup } from "./cli_helpers.ts";

test("login --m2m --credentials FILE logs the machine in and says where, never the token", async () => {
  await using s = await setup();
  const file = await s.credentialsFile();
  const run = await s.run(["login", "--m2m", "--credentials", file]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "");
  assert.match(run.stderr, /✓ Logged in to CARTO as an M2M client/);
  assert.match(run.stderr, /Client id: +fake-client-id/);
  assert.match(
    run.stderr,
    new RegExp(`API base URL: +${s.fake.apiBaseUrl.replaceAll(".", "\\.")}`),
  );
  assert.match(
    run.stderr,
    /Token expires: +in (59 minutes|1 hour) \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)/,
  );
  assert.match(run.stderr, /Saved to: +.*token_m2m\.json/);
  const cached = JSON.parse(
    await readFile(join(s.cacheDir, "token_m2m.json"), "utf8"),
  );
  assert.ok(s.fake.isValidToken(cached.access_token));
  assert.equal(cached.api_base_url, s.fake.apiBaseUrl);
  assert.equal(s.fake.count("token"), 1);
});

test("login --credentials alone implies --m2m", async () => {
  await using s = await setup();
  const run = await s.run([
    "login",
    "--credentials",
    await s.credentialsFile(),
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /M2M client/);
});

test("login --m2m takes the credentials from CARTO_CLIENT_ID, CARTO_CLIENT_SECRET, CARTO_API_BASE_URL", async () => {
  await using s = await setup();
  const run = await s.run(["login", "--m2m"], { env: s.m2mEnv });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /Logged in to CARTO as an M2M client/);
  const form = new URLSearchParams(
    s.fake.requests.find((r) => r.route === "token")!.body,
  );
  assert.equal(form.get("grant_type"), "client_credentials");
  assert.equal(form.get("client_id"), "fake-client-id");
});

test("login --m2m always asks for a new token, even when one is cached", async () => {
  await using s = await setup();
  const file = await s.credentialsFile();
  await s.run(["login", "--m2m", "--credentials", file]);
  const run = await s.run(["login", "--m2m", "--credentials", file]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(s.fake.count("token"), 2);
});

test("login --m2m without credentials is a usage error that says what to pass", async () => {
  await using s = await setup();
  const run = await s.run(["login", "--m2m"]);
  assert.equal(run.code, 2);
  assert.match(
    run.stderr,
    /no M2M credentials: pass --credentials FILE, or set CARTO_CLIENT_ID/,
  );
  assert.match(run.stderr, /carto-auth login --help/);
});

test("login --m2m with half of the variables names the missing ones", async () => {
  await using s = await setup();
  const run = await s.run(["login", "--m2m"], {
    env: { CARTO_CLIENT_ID: "fake-client-id" },
  });
  assert.equal(run.code, 2);
  assert.match(
    run.stderr,
    /CARTO_CLIENT_SECRET and CARTO_API_BASE_URL are not set/,
  );
});

test("login --m2m with a missing credentials file says so (exit 1)", async () => {
  await using s = await setup();
  const run = await s.run([
    "login",
    "--m2m",
    "--credentials",
    join(s.dir, "nope.json"),
  ]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /nope\.json does not exist/);
});

test("login --m2m with a file missing a key names the key", async () => {
  await using s = await setup();
  const file = await s.credentialsFile({ client_secret: "" });
  const run = await s.run(["login", "--m2m", "--credentials", file]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /client_secret/);
});

test("login --m2m with a wrong secret fails with exit 4 and does not print the secret", async () => {
  await using s = await setup();
  const file = await s.credentialsFile({ client_secret: "wrong-secret-value" });
  const run = await s.run(["login", "--m2m", "--credentials", file]);
  assert.equal(run.code, 4);
  assert.match(run.stderr, /access_denied/);
  assert.match(run.stderr, /Check client_id and client_secret/);
  assert.doesNotMatch(run.stderr, /wrong-secret-value/);
});

test("login --m2m rejects flags of a person's login", async () => {
  await using s = await setup();
  for (const flags of [["--org", "acme"], ["--no-browser"], ["--port", "0"]]) {
    const run = await s.run(["login", "--m2m", ...flags], { env: s.m2mEnv });
    assert.equal(run.code, 2, flags.join(" "));
    assert.match(
      run.stderr,
      new RegExp(`${flags[0]} is for logging a person in`),
    );
  }
});

test("with the M2M variables set, token gets a token silently and caches it", async () => {
  await using s = await setup();
  const first = await s.run(["token"], { env: s.m2mEnv });
  assert.equal(first.code, 0, first.stderr);
  const token = first.stdout.trim();
  assert.ok(s.fake.isValidToken(token));
  assert.equal(first.stderr, "");
  const second = await s.run(["token"], { env: s.m2mEnv });
  assert.equal(second.stdout.trim(), token);
  assert.equal(s.fake.count("token"), 1);
});

test("token --m2m renews an expired M2M token with the credentials file", async () => {
  await using s = await setup();
  await s.writeToken("m2m", {
    accessToken: "expired-token",
    expiration: Math.floor(Date.now() / 1000) - 10,
    apiBaseUrl: s.fake.apiBaseUrl,
    clientId: "fake-client-id",
  });
  const run = await s.run([
    "token",
    "--m2m",
    "--credentials",
    await s.credentialsFile(),
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.ok(s.fake.isValidToken(run.stdout.trim()));
});

test("token renews a cached token a minute or less from expiry, and prints one further from it", async () => {
  // cli.ts answers `token` on its own, with its own copy of the leeway.
  await using s = await setup();
  const cache = (accessToken: string, expiresIn: number) =>
    s.writeToken("m2m", {
      accessToken,
      expiration: Math.floor(Date.now() / 1000) + expiresIn,
      apiBaseUrl: s.fake.apiBaseUrl,
      clientId: "fake-client-id",
    });
  await cache("near-expiry-token", 50);
  const near = await s.run(["token"], { env: s.m2mEnv });
  assert.equal(near.code, 0, near.stderr);
  assert.ok(s.fake.isValidToken(near.stdout.trim()));
  assert.equal(s.fake.count("token"), 1);
  await cache("still-fresh-token", 150);
  const fresh = await s.run(["token"], { env: s.m2mEnv });
  assert.equal(fresh.stdout, "still-fresh-token\n", fresh.stderr);
  assert.equal(s.fake.count("token"), 1);
});

test("token --m2m with an expired token and no credentials fails with exit 4 and says how to renew", async () => {
  await using s = await setup();
  await s.writeToken("m2m", {
    accessToken: "expired-token",
    expiration: Math.floor(Date.now() / 1000) - 10,
    apiBaseUrl: s.fake.apiBaseUrl,
    clientId: "fake-client-id",
  });
  const run = await s.run(["token", "--m2m"]);
  assert.equal(run.code, 4);
  assert.equal(run.stdout, "");
  assert.match(run.stderr, /cached M2M token has expired/);
  assert.match(run.stderr, /--credentials FILE, or set CARTO_CLIENT_ID/);
  assert.equal(s.fake.count("token"), 0);
});

test("token --m2m with no M2M login at all says there is none and how to log in (exit 4)", async () => {
  await using s = await setup();
  const run = await s.run(["token", "--m2m"]);
  assert.equal(run.code, 4);
  assert.equal(run.stdout, "");
  assert.equal(
    run.stderr,
    "Error: There is no M2M login: no cached M2M token and no client credentials. " +
      "Pass --credentials FILE, or set CARTO_CLIENT_ID, CARTO_CLIENT_SECRET and " +
      "CARTO_API_BASE_URL, or log the machine in first: carto-auth login --m2m " +
      "--credentials FILE\n",
  );
  assert.doesNotMatch(run.stderr, /expired/);
  assert.equal(s.fake.requests.length, 0);
});
