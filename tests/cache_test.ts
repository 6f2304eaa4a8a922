import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  stat,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CartoAuth, FileTokenStore } from "../mod.ts";
import { startFakeCarto } from "../src/testing/mod.ts";

const now = () => Math.floor(Date.now() / 1000);

async function cacheDir(): Promise<string> {
  return join(
    await mkdtemp(join(tmpdir(), "carto-auth-cache-")),
    ".carto-auth",
  );
}

async function writeJson(path: string, data: unknown) {
  await mkdir(join(path, ".."), { recursive: true, mode: 0o700 });
  await writeFile(path, JSON.stringify(data), { mode: 0o600 });
}

/** Runs Python 3 with `script`; the suite runs in a non-UTC zone (see scripts/test.ts). */
function python(script: string, ...args: string[]): string {
  return execFileSync("python3", ["-c", script, ...args], { encoding: "utf8" })
    .trim();
}

test("cache hit: an unexpired cached OAuth token is used without any request", async () => {
  await using fake = await startFakeCarto();
  const path = join(await cacheDir(), "token_oauth.json");
  // One reading of the clock: two may fall in different seconds.
  const expiration = now() + 3600;
  await writeJson(path, {
    api_base_url: "https://gcp-us-east1.api.carto.com",
    access_token: "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpX",
    expiration,
    expiration_utc: expiration,
  });
  const auth = await CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    cacheFilepath: path,
    openBrowser: () => assert.fail("no login expected"),
  });
  assert.equal(await auth.getAccessToken(), "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpX");
  assert.equal(auth.getApiBaseUrl(), "https://gcp-us-east1.api.carto.com");
  assert.equal(auth.expiration, expiration);
  assert.equal(fake.requests.length, 0);
});

test("cache miss: a login writes the Python-compatible file, 0600 in a 0700 folder", async () => {
  await using fake = await startFakeCarto();
  const dir = await cacheDir();
  const path = join(dir, "token_oauth.json");
  const auth = await CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    cacheFilepath: path,
    openBrowser: fake.browser,
    redirectPort: 0,
    log: () => {},
  });
  const text = await readFile(path, "utf8");
  const data = JSON.parse(text);
  assert.deepEqual(Object.keys(data).slice(0, 3), [
    "api_base_url",
    "access_token",
    "expiration",
  ]);
  assert.equal(data.api_base_url, fake.apiBaseUrl);
  assert.equal(data.access_token, await auth.getAccessToken());
  assert.ok(Number.isInteger(data.expiration));
  assert.match(
    text,
    /^\{"api_base_url": "/,
    "json.dump spacing, as Python writes it",
  );
  if (process.platform !== "win32") {
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
  }
  assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith(".tmp")), []);
});

test("expired cache: a new login replaces the cached token", async () => {
  await using fake = await startFakeCarto();
  const path = join(await cacheDir(), "token_oauth.json");
  await writeJson(path, {
    api_base_url: fake.apiBaseUrl,
    access_token: "expired",
    expiration: now() - 10,
    expiration_utc: now() - 10,
  });
  let logins = 0;
  const auth = await CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    cacheFilepath: path,
    openBrowser: (url) => (logins++, fake.browser(url)),
    redirectPort: 0,
    log: () => {},
  });
  assert.equal(logins, 1);
  const token = await auth.getAccessToken();
  assert.notEqual(token, "expired");
  assert.equal(JSON.parse(await readFile(path, "utf8")).access_token, token);
});

test("a token within leewaySeconds of its expiry counts as expired", async () => {
  await using fake = await startFakeCarto();
  const path = join(await cacheDir(), "token_m2m.json");
  await writeJson(path, {
    api_base_url: fake.apiBaseUrl,
    access_token: "almost-expired",
    expiration: now() + 30,
    expiration_utc: now() + 30,
  });
  const auth = await CartoAuth.fromM2M(fake.credentials, {
    endpoints: fake.endpoints,
    cacheFilepath: path,
    leewaySeconds: 60,
  });
  assert.notEqual(await auth.getAccessToken(), "almost-expired");
  assert.equal(fake.count("token"), 1);
});

test("useCache: false neither reads nor writes the cache file", async () => {
  await using fake = await startFakeCarto();
  const dir = await cacheDir();
  const path = join(dir, "token_m2m.json");
  await writeJson(path, {
    api_base_url: fake.apiBaseUrl,
    access_token: "cached",
    expiration: now() + 3600,
  });
  const auth = await CartoAuth.fromM2M(fake.credentials, {
    endpoints: fake.endpoints,
    cacheFilepath: path,
    useCache: false,
  });
  assert.notEqual(await auth.getAccessToken(), "cached");
  assert.equal(JSON.parse(await readFile(path, "utf8")).access_token, "cached");
});

test("M2M: a cached token of the same client is used, one of another client is not", async () => {
  await using fake = await startFakeCarto({
    clients: { a: "secret-a", b: "secret-b" },
  });
  const path = join(await cacheDir(), "token_m2m.json");
  const options = { endpoints: fake.endpoints, cacheFilepath: path };
  const creds = (id: string) => ({
    apiBaseUrl: fake.apiBaseUrl,
    clientId: id,
    clientSecret: `secret-${id}`,
  });
  const a1 = await CartoAuth.fromM2M(creds("a"), options);
  const a2 = await CartoAuth.fromM2M(creds("a"), options);
  assert.equal(await a2.getAccessToken(), await a1.getAccessToken());
  assert.equal(fake.count("token"), 1);
  const b = await CartoAuth.fromM2M(creds("b"), options);
  assert.notEqual(await b.getAccessToken(), await a1.getAccessToken());
  assert.equal(fake.count("token"), 2);
  assert.equal(JSON.parse(await readFile(path, "utf8")).client_id, "b");
});

test("OAuth: a cached token of another org (or of no org) is not used", async () => {
  await using fake = await startFakeCarto({
    orgs: { acme: "org_acme123", beta: "org_beta456" },
  });
  const path = join(await cacheDir(), "token_oauth.json");
  let logins = 0;
  const login = (org?: string) =>
    CartoAuth.fromOAuth({
      endpoints: fake.endpoints,
      cacheFilepath: path,
      org,
      openBrowser: (url) => (logins++, fake.browser(url)),
      redirectPort: 0,
      log: () => {},
    });
  await login();
  await login("acme");
  await login("acme");
  await login("beta");
  assert.equal(logins, 3);
  assert.equal(JSON.parse(await readFile(path, "utf8")).org, "beta");
});

test("an apiBaseUrl passed by the caller wins over the cached one", async () => {
  await using fake = await startFakeCarto();
  const path = join(await cacheDir(), "token_oauth.json");
  await writeJson(path, {
    api_base_url: "https://cached.example.com",
    access_token: "cached",
    expiration_utc: now() + 3600,
    expiration: now() + 3600,
  });
  const auth = await CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    cacheFilepath: path,
    apiBaseUrl: "https://gcp-europe-west1.api.carto.com/",
  });
  assert.equal(auth.getApiBaseUrl(), "https://gcp-europe-west1.api.carto.com");
  assert.equal(await auth.getAccessToken(), "cached");
});

test("a cached token without api_base_url is kept and the API base URL discovered", async () => {
  await using fake = await startFakeCarto();
  // Issue a real token through a login that is not cached, then cache it without a base URL.
  const seed = await CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    openBrowser: fake.browser,
    redirectPort: 0,
    useCache: false,
    log: () => {},
  });
  const path = join(await cacheDir(), "token_oauth.json");
  await writeJson(path, {
    api_base_url: null,
    access_token: await seed.getAccessToken(),
    expiration: now() + 3600,
    expiration_utc: now() + 3600,
  });
  const before = fake.count("authorize");
  const auth = await CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    cacheFilepath: path,
  });
  assert.equal(auth.getApiBaseUrl(), fake.apiBaseUrl);
  assert.equal(fake.count("authorize"), before, "no new login");
});

test("an invalid cache file means no cache: login, and the bad file is kept aside", async () => {
  await using fake = await startFakeCarto();
  for (
    const content of [
      "",
      "{trunc",
      "\u0000\u0001\u0002binary",
      '{"foo": 1}',
      "[1,2]",
    ]
  ) {
    const path = join(await cacheDir(), "token_m2m.json");
    await mkdir(join(path, ".."), { recursive: true, mode: 0o700 });
    await writeFile(path, content, { mode: 0o600 });
    const warnings: string[] = [];
    const auth = await CartoAuth.fromM2M(fake.credentials, {
      endpoints: fake.endpoints,
      store: new FileTokenStore({ path, onWarning: (m) => warnings.push(m) }),
    });
    const saved = JSON.parse(await readFile(path, "utf8"));
    assert.equal(saved.access_token, await auth.getAccessToken());
    assert.equal(await readFile(`${path}.invalid`, "utf8"), content);
    assert.match(
      warnings.join("\n"),
      /did not hold a valid token; kept it as .*\.invalid/,
    );
  }
});

test("a cache folder readable by others is tightened to 0700, with a warning", async () => {
  if (process.platform === "win32") return;
  const dir = await cacheDir();
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755);
  const warnings: string[] = [];
  const store = new FileTokenStore({ dir, onWarning: (m) => warnings.push(m) });
  await store.set("oauth", { accessToken: "t", expiration: now() + 100 });
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  assert.match(
    warnings.join("\n"),
    /was readable by others \(mode 755\); set it to 700/,
  );
});

test("FileTokenStore keeps one file per mode in its folder and deletes quietly", async () => {
  const dir = await cacheDir();
  const store = new FileTokenStore({ dir });
  assert.equal(store.pathFor("m2m"), join(dir, "token_m2m.json"));
  assert.equal(await store.get("m2m"), undefined);
  const token = {
    accessToken: "a",
    expiration: now() + 100,
    apiBaseUrl: "https://x.example.com",
    refreshToken: "r",
    clientId: "c",
    org: "o",
  };
  await store.set("m2m", token);
  assert.deepEqual(await store.get("m2m"), token);
  assert.equal(await store.get("oauth"), undefined);
  await store.delete("m2m");
  await store.delete("m2m");
  assert.equal(await store.get("m2m"), undefined);
});

test("Python interop: a file written here loads with Python's json and is never later in its clock", async () => {
  const dir = await cacheDir();
  const store = new FileTokenStore({ dir });
  const expiration = now() + 86400;
  await store.set("oauth", {
    accessToken: "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpX",
    expiration,
    apiBaseUrl: "https://gcp-us-east1.api.carto.com",
  });
  const out = python(
    `
import json, sys
from datetime import datetime
with open(sys.argv[1]) as f:
    data = json.load(f)
assert "api_base_url" in data and "access_token" in data and "expiration" in data
assert isinstance(data["api_base_url"], str) and isinstance(data["access_token"], str)
assert isinstance(data["expiration"], int)
now = datetime.utcnow().timestamp()
print(json.dumps({"token": data["access_token"], "remaining": data["expiration"] - now}))
`,
    store.pathFor("oauth"),
  );
  const seen = JSON.parse(out);
  assert.equal(seen.token, "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpX");
  // Python's own clock is off by the UTC offset; the value written accounts for it.
  assert.ok(
    seen.remaining <= 86400 + 5,
    `Python sees ${seen.remaining} s left`,
  );
  assert.ok(
    seen.remaining > 86400 - 14 * 3600 - 5,
    `Python sees ${seen.remaining} s left`,
  );
});

test("Python interop: a file written by Python is used here, read in the safe direction", async () => {
  await using fake = await startFakeCarto();
  const dir = await cacheDir();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, "token_m2m.json");
  python(
    `
import json, sys
from datetime import datetime, timedelta
data = {"api_base_url": sys.argv[2], "access_token": "python-token",
        "expiration": int((datetime.utcnow() + timedelta(seconds=86400)).timestamp())}
with open(sys.argv[1], "w") as f:
    json.dump(data, f)
`,
    path,
    fake.apiBaseUrl,
  );
  const read = await new FileTokenStore({ path }).get("m2m");
  const offset = -new Date().getTimezoneOffset() * 60;
  assert.ok(read, "the Python file parses");
  // Never later than the truth, never earlier than the shifted reading.
  assert.ok(read.expiration <= now() + 86400 + 5);
  assert.ok(read.expiration >= now() + 86400 - Math.max(0, offset) - 5);
  const auth = await CartoAuth.fromM2M(fake.credentials, {
    endpoints: fake.endpoints,
    cacheFilepath: path,
  });
  assert.equal(await auth.getAccessToken(), "python-token");
  assert.equal(fake.count("token"), 0);
});
