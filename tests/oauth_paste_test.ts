/** The paste flow: the code or the URL a person pastes back, and what is refused. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CartoAuth } from "../mod.ts";
import { startFakeCarto } from "../src/testing/mod.ts";
import { rejection } from "./rejection.ts";

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
