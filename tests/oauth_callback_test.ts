/**
 * What a login does with each kind of answer from the browser: only a wrong
 * or missing `state` is a stale tab (error page, keep waiting); every other
 * problem of an answer with the right state ends the login at once, naming
 * the problem; a refusal says what was refused and never just "log in
 * again".
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CartoAuth, MemoryTokenStore } from "../mod.ts";
import { startFakeCarto } from "../src/testing/mod.ts";
import { rejection } from "./rejection.ts";

type Fake = Awaited<ReturnType<typeof startFakeCarto>>;

/** Long enough that "at once" and "after the timeout" cannot be confused. */
const LOGIN_TIMEOUT_MS = 20_000;

/** A loopback login whose browser sends `answer(state)` to the callback instead of logging in. */
async function loopbackAnswer(
  fake: Fake,
  answer: (state: string) => Record<string, string | string[]>,
) {
  let page: { status: number; location: string | null } | undefined;
  const started = performance.now();
  const outcome = await CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    redirectPort: 0,
    useCache: false,
    loginTimeoutMs: LOGIN_TIMEOUT_MS,
    log: () => {},
    openBrowser: async (url) => {
      // The start link: its cookie, and the authorize URL's state.
      const start = await fetch(url, { redirect: "manual" });
      await start.body?.cancel();
      const cookie = start.headers.get("set-cookie")!.split(";")[0];
      const q = new URL(start.headers.get("location")!).searchParams;
      const callback = new URL(q.get("redirect_uri")!);
      for (const [name, value] of Object.entries(answer(q.get("state")!))) {
        for (const v of [value].flat()) callback.searchParams.append(name, v);
      }
      const res = await fetch(callback, {
        redirect: "manual",
        headers: { cookie },
      });
      await res.body?.cancel();
      page = { status: res.status, location: res.headers.get("location") };
    },
  }).then(() => undefined, (e) => e);
  return { outcome, page, ms: performance.now() - started };
}

test("a callback with the right state but a foreign issuer (RFC 9207) ends the login at once, naming both issuers", async () => {
  await using fake = await startFakeCarto();
  const { outcome, page, ms } = await loopbackAnswer(fake, (state) => ({
    state,
    code: "a-code",
    iss: "https://evil.example/",
  }));
  const error = await rejection(Promise.reject(outcome));
  assert.equal(error.error, "issuer_mismatch");
  assert.equal(error.code, "bad_response");
  assert.match(
    error.message,
    new RegExp(
      `answered as issuer "https://evil\\.example/", expected ${fake.endpoints.auth}/`,
    ),
  );
  assert.ok(ms < LOGIN_TIMEOUT_MS / 2, `ended at once, not after ${ms} ms`);
  assert.equal(page?.location, "https://app.carto.com/auth/error");
  assert.equal(fake.count("token"), 0, "the code was never exchanged");
});

test("a callback with the right state and neither code nor error ends the login: missing code", async () => {
  await using fake = await startFakeCarto();
  const { outcome, page, ms } = await loopbackAnswer(
    fake,
    (state) => ({ state }),
  );
  const error = await rejection(Promise.reject(outcome));
  assert.equal(error.error, "missing_code");
  assert.match(error.message, /carries no code/);
  assert.ok(ms < LOGIN_TIMEOUT_MS / 2);
  assert.equal(page?.location, "https://app.carto.com/auth/error");
  assert.equal(fake.count("token"), 0);
});

test("a callback with a parameter given twice ends the login, naming the parameter", async () => {
  await using fake = await startFakeCarto();
  const { outcome, ms } = await loopbackAnswer(fake, (state) => ({
    state,
    code: ["first", "second"],
  }));
  const error = await rejection(Promise.reject(outcome));
  assert.equal(error.error, "duplicate_parameter");
  assert.match(error.message, /carries "code" more than once/);
  assert.ok(ms < LOGIN_TIMEOUT_MS / 2);
  assert.equal(fake.count("token"), 0);
});

test("without this login's state, even a foreign issuer is only a stale tab: error page, the login goes on", async () => {
  await using fake = await startFakeCarto();
  const pages: number[] = [];
  const auth = await CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    redirectPort: 0,
    useCache: false,
    log: () => {},
    openBrowser: async (url) => {
      const callback = new URL("/callback/", url);
      // Any web page can make a browser load these; none may end the login.
      for (
        const query of [
          "code=x&iss=https%3A%2F%2Fevil.example%2F",
          "state=old&error=access_denied",
          "state=old&state=older&code=x",
        ]
      ) {
        const res = await fetch(`${callback.href}?${query}`);
        await res.body?.cancel();
        pages.push(res.status);
      }
      await fake.browser(url);
    },
  });
  assert.deepEqual(pages, [400, 400, 400]);
  assert.ok(fake.isValidToken(await auth.getAccessToken()));
});

test("paste flow: a URL with the right state and a foreign issuer names the issuer, not another login attempt", async () => {
  await using fake = await startFakeCarto();
  const error = await rejection(CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    openBrowser: false,
    useCache: false,
    prompt: async (message) => {
      const url = new URL(await fake.paste(message));
      url.searchParams.set("iss", "https://evil.example/");
      return url.href;
    },
  }));
  assert.equal(error.error, "issuer_mismatch");
  assert.doesNotMatch(error.message, /another login attempt/);
  assert.equal(fake.count("token"), 0);
});

test("refusals say what was refused and what to do, never a bare 'log in again'", async () => {
  const cases: {
    name: string;
    answer: (state: string) => Record<string, string>;
    code: string;
    says: RegExp;
  }[] = [
    {
      name: "consent declined",
      answer: (state) => ({
        state,
        error: "access_denied",
        error_description: "User did not authorize the request",
      }),
      code: "invalid_credentials",
      says:
        /declined .*in the browser \(access_denied: User did not authorize the request\)\. Nothing was saved/,
    },
    {
      name: "wrong organization",
      answer: (state) => ({
        state,
        error: "access_denied",
        error_description:
          "user auth0|123 is not part of the org_acme123 organization",
      }),
      code: "invalid_credentials",
      says:
        /refused the organization .*Log in with an organization your account belongs to \(the `org` option, `carto-auth login --org`\), or without one/,
    },
    {
      name: "an account without access",
      answer: (state) => ({
        state,
        error: "access_denied",
        error_description: "Access to this application has been blocked",
      }),
      code: "invalid_credentials",
      says:
        /refused access to this account .*ask your CARTO administrator, or log in with another account/,
    },
    {
      name: "offline access not allowed",
      answer: (state) => ({
        state,
        error: "invalid_scope",
        error_description: "requested scope is not allowed",
      }),
      code: "invalid_credentials",
      says:
        /scope "offline_access".*Offline access is not allowed for this login client here/,
    },
  ];
  for (const c of cases) {
    await using fake = await startFakeCarto();
    const { outcome, ms } = await loopbackAnswer(fake, c.answer);
    const error = await rejection(Promise.reject(outcome));
    assert.equal(error.code, c.code, c.name);
    assert.match(error.message, c.says, c.name);
    assert.doesNotMatch(error.message, /Log in again\./, c.name);
    assert.ok(ms < LOGIN_TIMEOUT_MS / 2, c.name);
  }
});

test("a code exchange the token endpoint refuses for the client says whose setting it is", async () => {
  await using fake = await startFakeCarto();
  fake.failNext("token", {
    status: 403,
    body: {
      error: "unauthorized_client",
      error_description:
        "Grant type 'authorization_code' not allowed for the client.",
    },
  });
  const error = await rejection(CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    openBrowser: fake.browser,
    redirectPort: 0,
    useCache: false,
    log: () => {},
  }));
  assert.equal(error.error, "unauthorized_client");
  assert.equal(error.status, 403);
  assert.match(error.endpoint ?? "", /\/auth0\/oauth\/token$/);
  assert.match(
    error.message,
    /does not allow this client to obtain tokens this way \(unauthorized_client: Grant type 'authorization_code' not allowed for the client\.\)\. This is a setting of the login service/,
  );
  assert.doesNotMatch(error.message, /Log in again/);
});

test("a refresh the server answers interaction_required hands over to a login instead of failing", async () => {
  await using fake = await startFakeCarto({ refreshTokens: true });
  const store = new MemoryTokenStore();
  let logins = 0;
  const options = {
    endpoints: fake.endpoints,
    redirectPort: 0,
    store,
    log: () => {},
    openBrowser: (url: string) => (logins++, fake.browser(url)),
  };
  await CartoAuth.fromOAuth(options);
  const saved = (await store.get("oauth"))!;
  await store.set("oauth", { ...saved, expiration: 1 });
  fake.failNext("token", {
    status: 400,
    body: {
      error: "interaction_required",
      error_description: "the user must log in again",
    },
  });
  const auth = await CartoAuth.fromOAuth(options);
  assert.ok(fake.isValidToken(await auth.getAccessToken()));
  assert.equal(logins, 2);
});
