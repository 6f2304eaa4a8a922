import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CartoAuth, CredentialsError } from "../mod.ts";
import { type FakeCarto, startFakeCarto } from "../src/testing/mod.ts";
import { rejection } from "./rejection.ts";

/** Asserts that nothing secret leaks into an error's message. */
function assertNoSecrets(error: Error, fake: FakeCarto, ...more: string[]) {
  for (const secret of [fake.credentials.clientSecret, ...more]) {
    assert.ok(
      !error.message.includes(secret),
      `message leaks a secret: ${error.message}`,
    );
  }
  assert.doesNotMatch(
    error.message,
    /eyJ[A-Za-z0-9_-]{10,}/,
    "message leaks a JWT",
  );
}

const m2m = (fake: FakeCarto) =>
  CartoAuth.fromM2M(fake.credentials, {
    endpoints: fake.endpoints,
    useCache: false,
  });

const oauth = (fake: FakeCarto) =>
  CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    openBrowser: fake.browser,
    redirectPort: 0,
    useCache: false,
    log: () => {},
  });

test("constructor: an unknown mode is a CredentialsError", () => {
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => new CartoAuth({ mode: "password" as any }),
    (e) =>
      e instanceof CredentialsError &&
      /Mode not supported: "password"/.test(e.message),
  );
});

test("constructor: a plain-http API base URL is refused unless it is loopback", () => {
  assert.throws(
    () =>
      new CartoAuth({
        mode: "oauth",
        apiBaseUrl: "http://gcp-us-east1.api.carto.com",
      }),
    /apiBaseUrl must use https/,
  );
  const local = new CartoAuth({
    mode: "oauth",
    apiBaseUrl: "http://127.0.0.1:8080/api/",
  });
  assert.equal(local.getApiBaseUrl(), "http://127.0.0.1:8080/api");
});

test("credentials file: missing, not JSON, not an object, missing key, empty value", async () => {
  const dir = await mkdtemp(join(tmpdir(), "carto-auth-creds-"));
  const file = (name: string, content: string) =>
    writeFile(join(dir, name), content, { mode: 0o600 }).then(() =>
      join(dir, name)
    );
  const ok = {
    api_base_url: "https://gcp-us-east1.api.carto.com",
    client_id: "1234",
    client_secret: "1234567890",
  };
  const cases: [string, RegExp][] = [
    [
      join(dir, "absent.json"),
      /absent\.json does not exist\. Download it from CARTO/,
    ],
    [await file("bad.json", "{not json"), /bad\.json is not valid JSON/],
    [await file("array.json", "[]"), /must hold a JSON object/],
    [
      await file(
        "noattr.json",
        JSON.stringify({ ...ok, client_secret: undefined }),
      ),
      /Missing attribute client_secret in the M2M credentials file .*noattr\.json/,
    ],
    [
      await file("novalue.json", JSON.stringify({ ...ok, client_id: "" })),
      /Missing value for client_id in the M2M credentials file .*novalue\.json/,
    ],
  ];
  for (const [path, message] of cases) {
    const error = await rejection(CartoAuth.fromM2M(path, { useCache: false }));
    assert.equal(error.code, "invalid_input");
    assert.match(error.message, message);
    assert.doesNotMatch(error.message, /1234567890/);
  }
});

test("credentials file readable by others gives a warning", async () => {
  if (process.platform === "win32") return;
  await using fake = await startFakeCarto();
  const dir = await mkdtemp(join(tmpdir(), "carto-auth-creds-"));
  const path = join(dir, "creds.json");
  await writeFile(
    path,
    JSON.stringify({
      api_base_url: fake.apiBaseUrl,
      client_id: fake.credentials.clientId,
      client_secret: fake.credentials.clientSecret,
    }),
    { mode: 0o644 },
  );
  const messages: string[] = [];
  await CartoAuth.fromM2M(path, {
    endpoints: fake.endpoints,
    useCache: false,
    log: (m) => messages.push(m),
  });
  assert.match(
    messages.join("\n"),
    /can be read by others \(mode 644\); run: chmod 600/,
  );
});

test("credentials object: missing key and empty value name the key", async () => {
  const base = {
    apiBaseUrl: "https://a.example.com",
    clientId: "id",
    clientSecret: "s3cret",
  };
  const missing = await rejection(
    CartoAuth.fromM2M({ ...base, clientId: undefined as unknown as string }),
  );
  assert.match(
    missing.message,
    /Missing attribute clientId in the M2M credentials/,
  );
  const empty = await rejection(
    CartoAuth.fromM2M({ ...base, clientSecret: " " }),
  );
  assert.match(empty.message, /Missing value for clientSecret/);
});

test("token endpoint: a 5xx is retried and then succeeds", async () => {
  await using fake = await startFakeCarto();
  fake.failNext("token", { status: 503, body: "upstream down" });
  const auth = await m2m(fake);
  assert.ok(fake.isValidToken(await auth.getAccessToken()));
  assert.equal(fake.count("token"), 2);
});

test("token endpoint: a lasting 5xx fails naming the service, after bounded retries", async () => {
  await using fake = await startFakeCarto();
  fake.failNext("token", {
    status: 502,
    body: "<html><h1>Bad Gateway</h1></html>",
  }, 10);
  const error = await rejection(m2m(fake));
  assert.equal(error.code, "server_error");
  assert.equal(error.status, 502);
  assert.match(
    error.message,
    /CARTO login service \(http:\/\/127\.0\.0\.1:\d+\/auth0\/oauth\/token\) answered HTTP 502 with an HTML page\. The service may be down; try again later\./,
  );
  assert.equal(fake.count("token"), 3);
  assertNoSecrets(error, fake);
});

test("token endpoint: 200 with HTML, invalid JSON, or JSON without access_token", async () => {
  await using fake = await startFakeCarto();
  const cases: [unknown, RegExp][] = [
    [
      "<!doctype html><p>Maintenance</p>",
      /answered with an HTML page \(HTTP 200\)/,
    ],
    ["{", /answered with something that is not JSON \(HTTP 200\)/],
    [
      {},
      /invalid token response: "response" body "access_token" property must be a string/,
    ],
    [
      { access_token: "eyJhbGciOiJIUzI1NiJ9.e30.x", token_type: "Bearer" },
      /answered without "expires_in"/,
    ],
    [
      {
        access_token: "eyJhbGciOiJIUzI1NiJ9.e30.x",
        expires_in: 60,
        token_type: "mac",
      },
      /invalid token response: unsupported `token_type` value/,
    ],
  ];
  for (const [body, message] of cases) {
    fake.failNext("token", { status: 200, body });
    const error = await rejection(m2m(fake));
    assert.equal(error.code, "bad_response");
    assert.match(error.message, message);
    assertNoSecrets(error, fake);
  }
});

test("token endpoint unreachable: a network error names the service", async () => {
  await using fake = await startFakeCarto();
  await fake.close();
  const error = await rejection(m2m(fake));
  assert.equal(error.code, "network");
  assert.match(
    error.message,
    /Could not reach CARTO login service \(http:\/\/127\.0\.0\.1:\d+/,
  );
  assert.match(error.message, /Check your network connection/);
});

test("discovery: accounts without tenant_domain, or with an error", async () => {
  await using fake = await startFakeCarto();
  fake.failNext("accounts", { status: 200, body: { id: "ac_1" } });
  const missing = await rejection(oauth(fake));
  assert.match(
    missing.message,
    /answered without a tenant_domain.*Pass apiBaseUrl/,
  );
  fake.failNext("accounts", {
    status: 200,
    body: { error: "Account suspended" },
  });
  const said = await rejection(oauth(fake));
  assert.match(said.message, /answered with an error: Account suspended/);
  fake.failNext("accounts", { status: 200, body: "wrong json" });
  const notJson = await rejection(oauth(fake));
  assert.match(
    notJson.message,
    /CARTO accounts service .* answered with something that is not JSON/,
  );
});

test("discovery: a tenant_domain that is not a host name is refused", async () => {
  await using fake = await startFakeCarto();
  for (
    const domain of [
      "https://evil.example.com",
      "evil.example.com/x",
      "user@evil.example.com",
      "evil.example.com:8443",
      "localhost.evil.com:80",
    ]
  ) {
    fake.failNext("accounts", { status: 200, body: { tenant_domain: domain } });
    const error = await rejection(oauth(fake));
    assert.match(error.message, /tenant_domain that is not a host name/);
  }
  assert.equal(fake.count("config"), 0);
});

test("discovery: config.yaml invalid, without apis.baseUrl, or with an http baseUrl", async () => {
  await using fake = await startFakeCarto();
  const cases: [string, RegExp][] = [
    ["wrong yaml: [", /has no apis\.baseUrl/],
    ["apis:\n  workspaceUrl: https://x\n", /has no apis\.baseUrl/],
    ["- 1\n- 2\n", /has no apis\.baseUrl/],
    [
      'apis:\n  baseUrl: "http://gcp-us-east1.api.carto.com"\n',
      /must use https/,
    ],
  ];
  for (const [yaml, message] of cases) {
    fake.failNext("config", { status: 200, body: yaml });
    const error = await rejection(oauth(fake));
    assert.match(error.message, message);
  }
  fake.failNext("config", { status: 404, body: "not found" });
  const gone = await rejection(oauth(fake));
  assert.match(
    gone.message,
    /CARTO tenant configuration .*config\.yaml\) answered HTTP 404/,
  );
});

test("DW credentials: token endpoint not JSON, or missing projectId / token", async () => {
  await using fake = await startFakeCarto();
  const auth = await m2m(fake);
  const cases: [unknown, RegExp][] = [
    [
      "wrong json",
      /CARTO DW token endpoint .* answered with something that is not JSON/,
    ],
    [
      { token: "t" },
      /Invalid attributes in CARTO DW token response: no projectId/,
    ],
    [
      { projectId: "p" },
      /Invalid attributes in CARTO DW token response: no token/,
    ],
  ];
  for (const [body, message] of cases) {
    fake.failNext("dwToken", { status: 200, body });
    const error = await rejection(auth.getCartoDwCredentials());
    assert.match(error.message, message);
  }
  const [projectId, token] = await auth.getCartoDwCredentials();
  assert.equal(projectId, fake.dwProjectId);
  assert.match(token, /^ya29\./);
});

test("DW credentials without an API base URL: api_base_url required", async () => {
  const auth = new CartoAuth({
    mode: "oauth",
    accessToken: "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpX",
    expiration: Math.floor(Date.now() / 1000) + 3600,
    useCache: false,
    interactive: false,
    endpoints: { accounts: "http://127.0.0.1:9/none" },
    timeoutMs: 2000,
  });
  const error = await rejection(auth.getCartoDwCredentials());
  assert.match(error.message, /api_base_url required/);
});
