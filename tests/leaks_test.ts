/**
 * What errors and discovery give away (issue 11, item 10): no SQL from a
 * URL's query in what `console.error(err)` prints, and no tenant_domain that
 * sends discovery to an IP address or to a local port.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { inspect } from "node:util";
import { CartoAuth } from "../mod.ts";
import { discoverAccount } from "../src/discovery.ts";
import { startFakeCarto } from "../src/testing/mod.ts";
import { rejection } from "./rejection.ts";

/** What `console.error(value)` prints in this runtime, and what Node's `util.inspect` does. */
function printed(value: unknown): string {
  const rt = globalThis as {
    Deno?: { inspect(v: unknown, o: object): string };
    Bun?: { inspect(v: unknown, o: object): string };
  };
  const own = (rt.Deno ?? rt.Bun)!.inspect(value, { depth: 10 });
  return `${own}\n${inspect(value, { depth: 10 })}`;
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

test("a network error prints no SQL from the query string, at any depth of its causes", async () => {
  const port = await closedPort();
  const auth = new CartoAuth({
    mode: "m2m",
    apiBaseUrl: `http://127.0.0.1:${port}/api`,
    accessToken: "t",
    useCache: false,
  });
  const error = await rejection(
    auth.querySql("carto_dw", "SELECT secret_column FROM payroll"),
  );
  assert.equal(error.code, "network");
  assert.ok(error.cause, "the cause is kept");
  const text = printed(error);
  assert.match(text, /\/api\/v3\/sql\/carto_dw\/query/, "the endpoint is");
  assert.doesNotMatch(text, /secret_column|payroll/);
  const direct = await rejection(
    auth.fetch("/v3/sql/carto_dw/query?q=SELECT%20secret_column"),
  );
  assert.doesNotMatch(printed(direct), /secret_column/);
});

test("discovery refuses a tenant_domain that is an IP address, in any spelling", async () => {
  await using fake = await startFakeCarto();
  const auth = await CartoAuth.fromM2M(fake.credentials, {
    endpoints: fake.endpoints,
    useCache: false,
  });
  const token = await auth.getAccessToken();
  const sent: string[] = [];
  const fetch = ((input: string, init?: RequestInit) => {
    sent.push(String(input));
    return globalThis.fetch(input, init);
  }) as typeof globalThis.fetch;
  for (
    const domain of [
      "169.254.169.254",
      "0xa9fea9fe",
      "0x7f000001",
      "2130706433",
      "0177.0.0.1",
      "127.1",
      "10.0.0.1",
      "tenant.0x7f",
    ]
  ) {
    fake.failNext("accounts", { status: 200, body: { tenant_domain: domain } });
    const error = await rejection(
      discoverAccount(token, {
        endpoints: fake.endpoints,
        http: { fetch, retries: 0, timeoutMs: 2000 },
      }),
    );
    assert.equal(error.code, "bad_response", domain);
    assert.match(error.message, /tenant_domain that is not a host name/);
  }
  assert.deepEqual(
    sent.filter((url) => !url.startsWith(fake.endpoints.accounts)),
    [],
    "nothing but the accounts service was asked",
  );
});

test("with the production accounts service, discovery refuses a local tenant or API", async () => {
  await using fake = await startFakeCarto();
  const auth = await CartoAuth.fromM2M(fake.credentials, {
    endpoints: fake.endpoints,
    useCache: false,
  });
  const token = await auth.getAccessToken();
  // The network as seen from here: the production names lead to the fake.
  const routes: Record<string, string> = {
    "https://accounts.app.carto.com": fake.endpoints.accounts,
    "https://tenant.example.com": fake.url,
  };
  const fetch = ((input: string, init?: RequestInit) => {
    let url = String(input);
    for (const [from, to] of Object.entries(routes)) {
      if (url.startsWith(from)) url = to + url.slice(from.length);
    }
    return globalThis.fetch(url, init);
  }) as typeof globalThis.fetch;
  const endpoints = {
    ...fake.endpoints,
    accounts: "https://accounts.app.carto.com",
  };
  const http = { fetch, retries: 0 };

  for (const domain of [fake.tenantDomain, "localhost:8080", "[::1]:9"]) {
    fake.failNext("accounts", { status: 200, body: { tenant_domain: domain } });
    const error = await rejection(discoverAccount(token, { endpoints, http }));
    assert.match(error.message, /tenant_domain that is not a host name/);
  }
  assert.equal(fake.count("config"), 0, "no local config.yaml was read");

  fake.failNext("accounts", {
    status: 200,
    body: { tenant_domain: "tenant.example.com" },
  });
  fake.failNext("config", {
    status: 200,
    body: 'apis:\n  baseUrl: "http://localhost:8080/api"\n',
  });
  const local = await rejection(discoverAccount(token, { endpoints, http }));
  assert.match(local.message, /gave a local apis\.baseUrl/);

  // The fake CARTO itself (a loopback accounts service) still works.
  const found = await discoverAccount(token, { endpoints: fake.endpoints });
  assert.equal(found.apiBaseUrl, fake.apiBaseUrl);
});
