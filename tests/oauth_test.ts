import { test } from "node:test";
import assert from "node:assert/strict";
import { CartoAuth, MemoryTokenStore } from "../mod.ts";
import { startFakeCarto } from "../src/testing/mod.ts";
import { runtimeServe } from "../src/runtime/serve.ts";
import { rejection } from "./rejection.ts";

/** The authorize URL as the fake CARTO received it (the browser reached it through the start link). */
function authorizeRequest(
  fake: Awaited<ReturnType<typeof startFakeCarto>>,
): URL {
  const request = fake.requests.find((r) => r.route === "authorize");
  assert.ok(request, "the browser never reached the authorize endpoint");
  return new URL(request.path, fake.url);
}

/** Options for a loopback login driven by the fake's stand-in browser. */
function loopback(fake: Awaited<ReturnType<typeof startFakeCarto>>) {
  return {
    endpoints: fake.endpoints,
    openBrowser: fake.browser,
    redirectPort: 0,
    useCache: false,
    log: () => {},
  };
}

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

test("paste flow: the full redirected URL is accepted and its state checked", async () => {
  await using fake = await startFakeCarto();
  let prompted = "";
  const auth = await CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    openBrowser: false,
    useCache: false,
    prompt: (message) => {
      prompted = message;
      return fake.paste(message);
    },
  });
  const url = new URL(/https?:\/\/\S+/.exec(prompted)![0]);
  assert.equal(
    url.searchParams.get("redirect_uri"),
    "https://app.carto.com/auth/token",
  );
  assert.match(prompted, /paste the code/);
  assert.ok(fake.isValidToken(await auth.getAccessToken()));
  const exchange = new URLSearchParams(
    fake.requests.find((r) => r.route === "token")!.body,
  );
  assert.equal(
    exchange.get("redirect_uri"),
    "https://app.carto.com/auth/token",
  );
});

test("paste flow: a bare code (what CARTO's page shows) is accepted", async () => {
  await using fake = await startFakeCarto();
  const auth = await CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    openBrowser: false,
    useCache: false,
    prompt: async (message) =>
      new URL(await fake.paste(message)).searchParams.get("code"),
  });
  assert.ok(fake.isValidToken(await auth.getAccessToken()));
});

test("paste flow: a URL of another login (wrong state) is refused", async () => {
  await using fake = await startFakeCarto();
  const error = await rejection(CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    openBrowser: false,
    useCache: false,
    prompt: async (message) => {
      const url = new URL(await fake.paste(message));
      url.searchParams.set("state", "from-another-login");
      return url.href;
    },
  }));
  assert.equal(error.error, "state_mismatch");
  assert.match(error.message, /belongs to another login attempt/);
  assert.equal(fake.count("token"), 0);
});

test("paste flow: empty input, garbage, a URL without code and end of input give clear errors", async () => {
  await using fake = await startFakeCarto();
  const cases: [string | null, RegExp][] = [
    ["   ", /No code was entered/],
    ["this is not a code", /does not look like a login code/],
    ["https://app.carto.com/auth/token?state=abc", /has no code/],
    [null, /input ended/],
    [
      "carto.com/authorize?error=access_denied&error_description=nope",
      /access_denied: nope/,
    ],
  ];
  for (const [answer, message] of cases) {
    const error = await rejection(CartoAuth.fromOAuth({
      endpoints: fake.endpoints,
      openBrowser: false,
      useCache: false,
      prompt: () => Promise.resolve(answer),
    }));
    assert.match(error.message, message);
  }
  assert.equal(fake.count("token"), 0);
});

test("paste flow: a URL without scheme or state, as in the Python package's tests, works", async () => {
  await using fake = await startFakeCarto();
  const auth = await CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    openBrowser: false,
    useCache: false,
    prompt: async (message) => {
      const code = new URL(await fake.paste(message)).searchParams.get("code");
      return `carto.com/autorize?code=${code}`;
    },
  });
  assert.ok(fake.isValidToken(await auth.getAccessToken()));
});

test("org by name is resolved to its org_ id and sent as organization", async () => {
  await using fake = await startFakeCarto({ orgs: { acme: "org_acme123" } });
  await CartoAuth.fromOAuth({ ...loopback(fake), org: "acme" });
  assert.equal(
    authorizeRequest(fake).searchParams.get("organization"),
    "org_acme123",
  );
  assert.equal(fake.count("orgId"), 1);
});

test("an org_ id is sent as is, without a lookup", async () => {
  await using fake = await startFakeCarto({ orgs: { acme: "org_acme123" } });
  await CartoAuth.fromOAuth({ ...loopback(fake), org: "org_acme123" });
  assert.equal(
    authorizeRequest(fake).searchParams.get("organization"),
    "org_acme123",
  );
  assert.equal(fake.count("orgId"), 0);
});

test("an unknown org name is a clear error before any browser opens", async () => {
  await using fake = await startFakeCarto();
  let opened = false;
  const error = await rejection(CartoAuth.fromOAuth({
    ...loopback(fake),
    org: "nope",
    openBrowser: () => {
      opened = true;
    },
  }));
  assert.match(error.message, /no CARTO organization named "nope"/);
  assert.equal(opened, false);
});

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
