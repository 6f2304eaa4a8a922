/**
 * The loopback login's one-time start link (issue 11, item 1). The link the
 * browser is opened with sits in the opener's command line, readable by every
 * local user: here a "watcher" reads it and tries to log the person in with
 * its own account. It can make the login fail, visibly; its sign-in is never
 * exchanged for a token.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CartoAuth } from "../mod.ts";
import type { OpenBrowser } from "../src/oauth/login.ts";
import { runOpener } from "../src/oauth/browser.ts";
import { COMMAND_LINE_HOLD_MS } from "../src/oauth/login_start.ts";
import {
  type BrowserLanding,
  type FakeCarto,
  StandInBrowser,
  startFakeCarto,
} from "../src/testing/mod.ts";
import { rejection } from "./rejection.ts";

function login(fake: FakeCarto, openBrowser: OpenBrowser) {
  return CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    openBrowser,
    redirectPort: 0,
    useCache: false,
    log: () => {},
  });
}

const SIGN_IN = { user: "fake-user", action: "sign-in" };
const WATCHER_SIGN_IN = { user: "mallory", action: "sign-in" };

test("a watcher who opens the link after the browser ends the login visibly, and its sign-in is never used", async () => {
  await using fake = await startFakeCarto({ signInPage: true });
  const person = new StandInBrowser();
  const watcher = new StandInBrowser();
  let watcherSaw: BrowserLanding | undefined;
  let personSaw: BrowserLanding | undefined;
  const error = await rejection(login(fake, async (url) => {
    // The browser opens the link; the person is on the sign-in page…
    const signIn = await person.open(url);
    // …when a watcher reads the link from the opener's command line.
    watcherSaw = await watcher.open(url);
    if (watcherSaw.text.includes("<form")) {
      watcherSaw = await watcher.submit(watcherSaw, WATCHER_SIGN_IN);
    }
    personSaw = await person.submit(signIn, SIGN_IN);
  }));
  assert.match(error.message, /opened by two different browsers/);
  assert.match(error.message, /--no-browser/);
  assert.equal(watcherSaw?.status, 403);
  assert.match(watcherSaw?.text ?? "", /This login link was already used/);
  assert.match(personSaw?.text ?? "", /This login has ended/);
  assert.equal(fake.count("token"), 0, "no code was exchanged");
});

test("a watcher who opens the link before the browser: the browser's visit stops the login, the watcher's sign-in is refused", async () => {
  await using fake = await startFakeCarto({ signInPage: true });
  const person = new StandInBrowser();
  const watcher = new StandInBrowser();
  let personSaw: BrowserLanding | undefined;
  let watcherSaw: BrowserLanding | undefined;
  const error = await rejection(login(fake, async (url) => {
    const watcherSignIn = await watcher.open(url);
    personSaw = await person.open(url);
    watcherSaw = await watcher.submit(watcherSignIn, WATCHER_SIGN_IN);
  }));
  assert.match(error.message, /opened by two different browsers/);
  // What the person sees in the browser that opened.
  assert.equal(personSaw?.status, 403);
  assert.match(personSaw?.text ?? "", /Another browser or program opened it/);
  assert.equal(watcherSaw?.status, 410);
  assert.equal(fake.count("token"), 0, "no code was exchanged");
});

test("a callback with the right state from a browser without the start link's cookie ends the login unexchanged", async () => {
  await using fake = await startFakeCarto();
  let answer: { status: number; text: string } | undefined;
  const error = await rejection(login(fake, async (url) => {
    // A client that keeps no cookies: it follows the same redirects.
    let next = url;
    for (let hop = 0; hop < 3; hop++) {
      const response = await fetch(next, { redirect: "manual" });
      answer = { status: response.status, text: await response.text() };
      next = response.headers.get("location") ?? "";
      if (!next) break;
    }
  }));
  assert.match(error.message, /lacks the login's cookie/);
  assert.match(error.message, /allow them, or use the paste flow/);
  assert.equal(answer?.status, 403);
  assert.match(answer?.text ?? "", /This browser did not start this login/);
  assert.equal(fake.count("token"), 0);
});

test("the start link opened on 127.0.0.1 or [::1] moves to localhost first, where the callback's cookie must be", async () => {
  for (const host of ["127.0.0.1", "[::1]"]) {
    await using fake = await startFakeCarto();
    let moved = "";
    let landed = "";
    const auth = await login(fake, async (url) => {
      const elsewhere = url.replace("//localhost:", `//${host}:`);
      const response = await fetch(elsewhere, { redirect: "manual" });
      await response.body?.cancel();
      moved = response.headers.get("location") ?? "";
      assert.equal(response.headers.get("set-cookie"), null);
      landed = await fake.browser(moved);
    });
    assert.match(moved, /^http:\/\/localhost:\d+\/start\//, host);
    assert.equal(landed, "https://app.carto.com/auth/success");
    assert.ok(fake.isValidToken(await auth.getAccessToken()));
  }
});

test("the same browser opening the link twice (a reload) keeps the login going", async () => {
  await using fake = await startFakeCarto({ signInPage: true });
  const person = new StandInBrowser();
  let landed = "";
  const auth = await login(fake, async (url) => {
    await person.open(url);
    const again = await person.open(url);
    assert.match(again.text, /Sign in to CARTO/);
    landed = (await person.submit(again, SIGN_IN)).url;
  });
  assert.equal(landed, "https://app.carto.com/auth/success");
  assert.ok(fake.isValidToken(await auth.getAccessToken()));
  assert.equal(fake.count("token"), 1);
});

test("the login cookie is HttpOnly and SameSite=Lax, named for the port, and removed by the callback's answer", async () => {
  await using fake = await startFakeCarto();
  const cookies: string[] = [];
  await login(fake, async (url) => {
    const start = await fetch(url, { redirect: "manual" });
    await start.body?.cancel();
    const cookie = start.headers.get("set-cookie") ?? "";
    cookies.push(cookie);
    const authorize = await fetch(start.headers.get("location")!, {
      redirect: "manual",
    });
    await authorize.body?.cancel();
    const callback = await fetch(authorize.headers.get("location")!, {
      redirect: "manual",
      headers: { cookie: cookie.split(";")[0] },
    });
    await callback.body?.cancel();
    cookies.push(callback.headers.get("set-cookie") ?? "");
  });
  const port = /carto_auth_login_(\d+)=/.exec(cookies[0])?.[1];
  assert.ok(port, cookies[0]);
  assert.match(
    cookies[0],
    /^carto_auth_login_\d+=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/,
  );
  assert.equal(cookies[1], `carto_auth_login_${port}=; Path=/; Max-Age=0`);
});

test("a watcher faster than the browser: a login whose link went on a command line is held, and the browser's late visit stops it", async () => {
  await using fake = await startFakeCarto({ signInPage: true });
  const person = new StandInBrowser();
  const watcher = new StandInBrowser();
  let watcherSaw: BrowserLanding | undefined;
  let personSaw: BrowserLanding | undefined;
  const started = Date.now();
  const error = await rejection(login(fake, async (url) => {
    // The opener's command line (here `true <link>`) is what a watcher reads…
    await runOpener("true", [url]);
    // …and it finishes a sign-in of its own before the browser has started.
    watcherSaw = await watcher.open(url);
    watcherSaw = await watcher.submit(watcherSaw, WATCHER_SIGN_IN);
    // The browser arrives seconds later, well within the hold.
    await new Promise((r) => setTimeout(r, 1500));
    personSaw = await person.open(url);
  }));
  assert.match(error.message, /opened by two different browsers/);
  // The watcher's browser was sent on as if it had succeeded; its code was never used.
  assert.equal(watcherSaw?.url, "https://app.carto.com/auth/success");
  assert.equal(personSaw?.status, 403);
  assert.match(personSaw?.text ?? "", /This login link was already used/);
  assert.equal(fake.count("token"), 0, "no code was exchanged");
  assert.ok(Date.now() - started < COMMAND_LINE_HOLD_MS, "stopped at once");
});

test("a login whose link went on a command line finishes after the hold when nobody else opened the link", async () => {
  await using fake = await startFakeCarto({ signInPage: true });
  const person = new StandInBrowser();
  const started = Date.now();
  let landed = "";
  const auth = await login(fake, async (url) => {
    await runOpener("true", [url]);
    landed = (await person.submit(await person.open(url), SIGN_IN)).url;
  });
  assert.equal(landed, "https://app.carto.com/auth/success");
  assert.ok(fake.isValidToken(await auth.getAccessToken()));
  assert.equal(fake.count("token"), 1);
  assert.ok(
    Date.now() - started >= COMMAND_LINE_HOLD_MS - 100,
    "held until the browser could have arrived",
  );
});
