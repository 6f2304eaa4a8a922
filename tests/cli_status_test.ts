import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CliProcess, fakeJwt, now, type Setup, setup } from "./cli_helpers.ts";

const JANE = fakeJwt({
  sub: "auth0|jane",
  "http://app.carto.com/email": "jane@acme.com",
  exp: now() + 3600,
});

async function janeLoggedIn(s: Setup, expiresIn = 3600, extra = {}) {
  return await s.writeToken("oauth", {
    accessToken: JANE,
    expiration: now() + expiresIn,
    apiBaseUrl: s.fake.apiBaseUrl,
    ...extra,
  });
}

const exists = (path: string) => stat(path).then(() => true, () => false);

test("status when nothing is cached: exit 1 and how to log in", async () => {
  await using s = await setup();
  const run = await s.run(["status"]);
  assert.equal(run.code, 1);
  assert.equal(run.stderr, "");
  assert.equal(
    run.stdout,
    [
      "Your login (OAuth)  ← used by commands",
      "  ✗ Not logged in. Run: carto-auth login",
      `  Token file:    ${join(s.cacheDir, "token_oauth.json")}`,
      "",
      "M2M login (machine)",
      "  ✗ Not logged in. Run: carto-auth login --m2m",
      `  Token file:    ${join(s.cacheDir, "token_m2m.json")}`,
      "",
    ].join("\n"),
  );
});

test("status shows who, where, the expiry (relative and absolute) and the file", async () => {
  await using s = await setup();
  await janeLoggedIn(s);
  const run = await s.run(["status"]);
  assert.equal(run.code, 0, run.stderr);
  const [oauth, m2m] = run.stdout.split("\n\n");
  assert.match(oauth, /^Your login \(OAuth\) {2}← used by commands\n/);
  assert.match(oauth, /✓ Logged in as jane@acme\.com/);
  assert.match(oauth, new RegExp(`API base URL: +${s.fake.apiBaseUrl}`));
  assert.match(
    oauth,
    /Expires: +in (59 minutes|1 hour) \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\)/,
  );
  assert.match(oauth, /Token file: +.*token_oauth\.json/);
  assert.match(m2m, /Not logged in/);
  assert.equal(s.fake.requests.length, 0);
});

test("status --json is stable: active, usable, and one entry per kind", async () => {
  await using s = await setup();
  const loggedIn = now();
  await janeLoggedIn(s, 3600, { org: "acme" });
  const run = await s.run(["status", "--json"]);
  const ran = now();
  assert.equal(run.code, 0, run.stderr);
  const status = JSON.parse(run.stdout);
  assert.deepEqual(Object.keys(status), [
    "profile",
    "profileSource",
    "active",
    "usable",
    "env",
    "oauth",
    "m2m",
    "profiles",
  ]);
  assert.equal(status.profile, "default");
  assert.equal(status.profileSource, "default");
  assert.equal(status.active, "oauth");
  assert.equal(status.usable, true);
  assert.equal(status.env, null);
  const { expiresAt, expiresIn, ...oauth } = status.oauth;
  assert.deepEqual(oauth, {
    loggedIn: true,
    usable: true,
    source: "cache",
    file: join(s.cacheDir, "token_oauth.json"),
    apiBaseUrl: s.fake.apiBaseUrl,
    account: "jane@acme.com",
    renewable: false,
    org: "acme",
  });
  // Bounded by the clock around the login and the run, however slow the
  // machine: the expiry is the login's, not the run's.
  const expiresAtSeconds = Date.parse(expiresAt) / 1000;
  assert.ok(
    expiresAtSeconds >= loggedIn + 3600 - 1 && expiresAtSeconds <= ran + 3600,
    `expiresAt ${expiresAt}`,
  );
  assert.ok(expiresIn > 3600 - (ran - loggedIn) - 2 && expiresIn <= 3600);
  assert.deepEqual(status.m2m, {
    loggedIn: false,
    usable: false,
    source: null,
    file: join(s.cacheDir, "token_m2m.json"),
    apiBaseUrl: null,
    account: null,
    expiresAt: null,
    expiresIn: null,
    renewable: false,
    clientId: null,
  });
});

test("status: an expired login without a refresh token is not usable (exit 1)", async () => {
  await using s = await setup();
  await janeLoggedIn(s, -7200);
  const run = await s.run(["status"]);
  assert.equal(run.code, 1);
  assert.match(
    run.stdout,
    /✗ Expired \(jane@acme\.com\)\. Run: carto-auth login/,
  );
  assert.match(run.stdout, /Expires: +2 hours ago \(/);
});

test("status: an expired login with a refresh token is usable, renewed on next use", async () => {
  await using s = await setup();
  await janeLoggedIn(s, -60, { refreshToken: "rt-abcdefghijk" });
  const run = await s.run(["status", "--json"]);
  assert.equal(run.code, 0);
  const { oauth } = JSON.parse(run.stdout);
  assert.equal(oauth.usable, true);
  assert.equal(oauth.renewable, true);
  assert.ok(oauth.expiresIn <= -60);
  const text = await s.run(["status"]);
  assert.match(
    text.stdout,
    /✓ Expired; renewed on next use with the refresh token as jane@acme\.com/,
  );
});

test("status after an M2M login: the machine's login is used by commands", async () => {
  await using s = await setup();
  await s.run(["login", "--m2m", "--credentials", await s.credentialsFile()]);
  const run = await s.run(["status"]);
  assert.equal(run.code, 0, run.stderr);
  const [oauth, m2m] = run.stdout.split("\n\n");
  assert.doesNotMatch(oauth, /used by commands/);
  assert.match(m2m, /^M2M login \(machine\) {2}← used by commands/);
  assert.match(m2m, /✓ Logged in as fake-client-id@clients/);
  assert.match(m2m, /Client id: +fake-client-id/);
  assert.match(m2m, /Token file: +.*token_m2m\.json/);
});

test("status with the M2M variables and no token yet: usable, fetched when needed", async () => {
  await using s = await setup();
  const run = await s.run(["status", "--json"], { env: s.m2mEnv });
  assert.equal(run.code, 0);
  const status = JSON.parse(run.stdout);
  assert.equal(status.active, "m2m");
  assert.equal(status.m2m.loggedIn, false);
  assert.equal(status.m2m.usable, true);
  assert.equal(status.m2m.clientId, "fake-client-id");
  const text = await s.run(["status"], { env: s.m2mEnv });
  assert.match(
    text.stdout,
    /No token yet; CARTO_CLIENT_ID and CARTO_CLIENT_SECRET are set/,
  );
});

test("status with CARTO_API_TOKEN: shown first, used by commands, expiry from the token", async () => {
  await using s = await setup();
  await janeLoggedIn(s);
  const env = {
    CARTO_API_TOKEN: fakeJwt({ sub: "auth0|bot", exp: now() + 600 }),
  };
  const run = await s.run(["status"], { env });
  assert.equal(run.code, 0);
  const [first, second] = run.stdout.split("\n\n");
  assert.match(
    first,
    /^CARTO_API_TOKEN \(environment variable\) {2}← used by commands/,
  );
  assert.match(first, /✓ Set; every command uses it as auth0\|bot/);
  assert.match(first, /Expires: +in 10 minutes/);
  assert.match(first, /Source: +CARTO_API_TOKEN/);
  assert.doesNotMatch(second, /used by commands/);
  assert.doesNotMatch(run.stdout, /eyJ/);
  const json = JSON.parse((await s.run(["status", "--json"], { env })).stdout);
  assert.equal(json.active, "env");
  assert.equal(json.env.source, "env");
  assert.equal(json.env.account, "auth0|bot");
});

test("token prints only the cached token, with no network call", async () => {
  await using s = await setup();
  await janeLoggedIn(s);
  const run = await s.run(["token"]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, `${JANE}\n`);
  assert.equal(run.stderr, "");
  assert.equal(s.fake.requests.length, 0);
});

test("token reads a token file written by the Python package", async () => {
  await using s = await setup();
  await mkdir(s.cacheDir, { recursive: true });
  // Python's json.dump of {api_base_url, access_token, expiration}; TZ=UTC
  // makes its utcnow()-based expiration exact.
  await writeFile(
    join(s.cacheDir, "token_oauth.json"),
    `{"api_base_url": "${s.fake.apiBaseUrl}", "access_token": "${JANE}", "expiration": ${
      now() + 3600
    }.5}`,
  );
  const run = await s.run(["token"], { env: { TZ: "UTC" } });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, `${JANE}\n`);
  assert.equal(s.fake.requests.length, 0);
});

test("token with the M2M variables of another client does not print the first client's token", async () => {
  await using s = await setup();
  await s.writeToken("m2m", {
    accessToken: "token-of-another-client",
    expiration: now() + 3600,
    apiBaseUrl: s.fake.apiBaseUrl,
    clientId: "another-client",
  });
  const run = await s.run(["token"], { env: s.m2mEnv });
  assert.equal(run.code, 0, run.stderr);
  assert.notEqual(run.stdout.trim(), "token-of-another-client");
  assert.ok(s.fake.isValidToken(run.stdout.trim()));
});

test("token with an expired login and no terminal: exit 4, nothing on stdout, no prompt", async () => {
  await using s = await setup();
  await janeLoggedIn(s, -10);
  const run = await s.run(["token"]);
  assert.equal(run.code, 4);
  assert.equal(run.stdout, "");
  // Whole sentences, each ending with a period; the command to run comes last.
  assert.equal(
    run.stderr,
    "Error: Your CARTO login has expired. No login was started because stdin " +
      "is not a terminal. Run: carto-auth login\n",
  );
  assert.equal(s.fake.requests.length, 0);
});

test("token in CI says CI is why no login was started", async () => {
  await using s = await setup();
  const run = await s.run(["token"], { env: { CI: "1" } });
  assert.equal(run.code, 4);
  assert.match(
    run.stderr,
    /You are not logged in to CARTO\. No login was started because CI is set\. Run: carto-auth login/,
  );
});

test("token renews an expired login with its refresh token, silently", async () => {
  await using s = await setup({ refreshTokens: true });
  const login = new CliProcess(["login"], s.env());
  await login.waitFor("stderr", /here: $/);
  login.write(`${await s.fake.paste(login.stderr)}\n`);
  assert.equal((await login.done).code, 0);
  const file = join(s.cacheDir, "token_oauth.json");
  const cached = JSON.parse(await readFile(file, "utf8"));
  assert.match(cached.refresh_token, /^rt-/);
  await s.writeToken("oauth", {
    accessToken: cached.access_token,
    expiration: now() - 5,
    apiBaseUrl: cached.api_base_url,
    refreshToken: cached.refresh_token,
  });
  const run = await s.run(["token"]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, "");
  const fresh = run.stdout.trim();
  assert.notEqual(fresh, cached.access_token);
  assert.ok(s.fake.isValidToken(fresh));
  const grants = s.fake.requests.filter((r) => r.route === "token").map((r) =>
    new URLSearchParams(r.body).get("grant_type")
  );
  assert.deepEqual(grants, ["authorization_code", "refresh_token"]);
  assert.equal(JSON.parse(await readFile(file, "utf8")).access_token, fresh);
});

test("token prints CARTO_API_TOKEN as is", async () => {
  await using s = await setup();
  await janeLoggedIn(s);
  const run = await s.run(["token", "--m2m"], {
    env: { CARTO_API_TOKEN: "my-own-token" },
  });
  assert.equal(run.code, 0);
  assert.equal(run.stdout, "my-own-token\n");
  assert.equal(s.fake.requests.length, 0);
});

test("token falls back to the cached M2M login when there is no personal one", async () => {
  await using s = await setup();
  await s.run(["login", "--m2m", "--credentials", await s.credentialsFile()]);
  const cached = JSON.parse(
    await readFile(join(s.cacheDir, "token_m2m.json"), "utf8"),
  );
  const run = await s.run(["token"]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), cached.access_token);
});

test("logout removes your login and says which file; the M2M login stays", async () => {
  await using s = await setup();
  const oauth = await janeLoggedIn(s);
  await s.run(["login", "--m2m", "--credentials", await s.credentialsFile()]);
  const run = await s.run(["logout"]);
  assert.equal(run.code, 0);
  assert.equal(run.stdout, "");
  assert.equal(
    run.stderr,
    `✓ Logged out: removed your login (OAuth) (${oauth})\n`,
  );
  assert.equal(await exists(oauth), false);
  assert.equal(await exists(join(s.cacheDir, "token_m2m.json")), true);
});

test("logout --m2m and logout --all; nothing to remove is fine", async () => {
  await using s = await setup();
  await s.run(["login", "--m2m", "--credentials", await s.credentialsFile()]);
  const m2m = await s.run(["logout", "--m2m"]);
  assert.equal(m2m.code, 0);
  assert.match(
    m2m.stderr,
    /✓ Logged out: removed the M2M login \(.*token_m2m\.json\)/,
  );
  const all = await s.run(["logout", "--all"]);
  assert.equal(all.code, 0);
  assert.equal(all.stderr, "No login to remove.\n");
  const none = await s.run(["logout"]);
  assert.equal(none.code, 0);
  assert.match(
    none.stderr,
    /Not logged in with your login \(OAuth\): nothing to remove/,
  );
});

test("logout warns that CARTO_API_TOKEN is still used; --m2m with --all is a usage error", async () => {
  await using s = await setup();
  const run = await s.run(["logout"], { env: { CARTO_API_TOKEN: "x" } });
  assert.equal(run.code, 0);
  assert.match(
    run.stderr,
    /CARTO_API_TOKEN is still set, and commands keep using it/,
  );
  const both = await s.run(["logout", "--m2m", "--all"]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--m2m and --all cannot be used together/);
});
