/**
 * The login in a real browser (issue 15): headless Chromium plays the
 * `openBrowser` function, signs in on the fake CARTO's sign-in page and comes
 * back to the loopback server. Each test checks what the person sees (the
 * page's URL and text) and what the library ends with.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { connect, createServer } from "node:net";
import type { BrowserContext, Page, Request } from "playwright-core";
import { CartoAuth, type CartoAuthOptions } from "../mod.ts";
import { jwtClaims } from "../src/jwt.ts";
import { type FakeCarto, startFakeCarto } from "../src/testing/mod.ts";
import {
  freshContext,
  launchChromium,
  noChromium,
  pageText,
  signIn,
} from "./browser_harness.ts";
import { rejection } from "./rejection.ts";

const skip = noChromium();
const browser = skip ? undefined : await launchChromium();
after(() => browser?.close());

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

/**
 * How many TCP connections the server on `port` has accepted and holds open
 * (Linux: ESTABLISHED sockets with that local port in /proc/net/tcp{,6}).
 */
async function openConnections(port: number): Promise<number> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, "0")} `;
  let count = 0;
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(table, "utf8").catch(() => "");
    for (const line of text.split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (`${local} `.endsWith(hex) && state === "01") count++;
    }
  }
  return count;
}

/** A port that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a login whose browser is `page`: the library's `openBrowser` opens
 * the link there, as the system browser would. `link` is what it was given.
 */
function loginIn(
  fake: FakeCarto,
  page: Page,
  options: Partial<CartoAuthOptions> = {},
) {
  let given!: (url: string) => void;
  const link = new Promise<string>((resolve) => (given = resolve));
  const login = CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    redirectPort: 0,
    useCache: false,
    log: () => {},
    openBrowser: async (url) => {
      given(url);
      await page.goto(url);
    },
    ...options,
  });
  login.catch(() => {}); // awaited by the test
  return { login, link };
}

/** The navigations of `page`, as `METHOD url`, and the callback's URL. */
function navigations(page: Page) {
  const seen = {
    list: [] as string[],
    requests: [] as Request[],
    callback: () =>
      seen.requests.find((r) => r.url().includes("/callback/"))!.url(),
  };
  page.on("request", (r) => {
    if (!r.isNavigationRequest()) return;
    seen.list.push(`${r.method()} ${r.url()}`);
    seen.requests.push(r);
  });
  return seen;
}

/** A test in a fresh browser profile, against a fake CARTO with its sign-in page. */
function browserTest(
  name: string,
  body: (
    t: { fake: FakeCarto; context: BrowserContext; page: Page },
  ) => Promise<void>,
) {
  test(name, { skip }, async () => {
    await using fake = await startFakeCarto({ signInPage: true });
    const context = await freshContext(browser!);
    try {
      await body({ fake, context, page: await context.newPage() });
    } finally {
      await context.close();
    }
  });
}

browserTest(
  "Chromium: the person signs in, the browser carries the start link's cookie back, lands on CARTO's success page; the library holds the person's token",
  async ({ fake, context, page }) => {
    const seen = navigations(page);
    const { login, link } = loginIn(fake, page);
    await signIn(page, "ada");
    const auth = await login;
    await page.waitForURL("https://app.carto.com/auth/success");
    assert.match(await pageText(page), /You are logged in to CARTO/);
    const token = await auth.getAccessToken();
    assert.ok(fake.isValidToken(token));
    assert.equal(jwtClaims(token)?.sub, "auth0|ada");

    const port = new URL(await link).port;
    // A request answered by a stand-in is reported twice: count it once.
    const shape = seen.list.map((n) => n.replace(/\?.*/, "?…"))
      .filter((n, i, all) => n !== all[i - 1]);
    assert.deepEqual(shape, [
      `GET ${await link}`,
      `GET ${fake.url}/auth0/authorize?…`,
      `POST ${fake.url}/auth0/authorize`,
      `GET http://localhost:${port}/callback/?…`,
      "GET https://app.carto.com/auth/success",
    ]);
    // After a cross-site POST and two redirects, the callback still carries
    // the cookie set on localhost by the start link (SameSite=Lax).
    const callback = seen.requests[3];
    assert.match(
      (await callback.allHeaders()).cookie ?? "",
      new RegExp(`carto_auth_login_${port}=[\\w-]{43}`),
    );
    // …and the callback's answer removed it.
    assert.deepEqual(await context.cookies("http://localhost"), []);
  },
);

browserTest(
  "Chromium: the start link opened on 127.0.0.1 moves to localhost first, so the cookie is where the callback comes, and the login succeeds",
  async ({ fake, page }) => {
    const seen = navigations(page);
    const { login } = loginIn(fake, page, {
      openBrowser: async (url) => {
        await page.goto(url.replace("//localhost:", "//127.0.0.1:"));
      },
    });
    await signIn(page);
    const auth = await login;
    await page.waitForURL("https://app.carto.com/auth/success");
    assert.ok(fake.isValidToken(await auth.getAccessToken()));
    const start = new URL(seen.list[0].slice("GET ".length));
    assert.equal(start.hostname, "127.0.0.1");
    assert.equal(
      seen.list[1],
      `GET http://localhost:${start.port}${start.pathname}`,
    );
  },
);

browserTest(
  "Chromium: the person cancels on the sign-in page, lands on CARTO's error page; the library reports the refusal",
  async ({ fake, page }) => {
    const { login } = loginIn(fake, page);
    await page.waitForSelector("text=Sign in to CARTO");
    await page.click('button[value="cancel"]');
    const error = await rejection(login);
    await page.waitForURL("https://app.carto.com/auth/error");
    assert.match(await pageText(page), /The CARTO login failed/);
    assert.equal(error.error, "access_denied");
    assert.equal(error.code, "invalid_credentials");
    assert.equal(fake.count("token"), 0);
  },
);

browserTest(
  "Chromium: after success, going back and signing in again, reloading the callback or opening the link in a second tab reaches nothing; the login ran once",
  async ({ fake, context, page }) => {
    const seen = navigations(page);
    const { login, link } = loginIn(fake, page);
    await signIn(page);
    const auth = await login;
    await page.waitForURL("https://app.carto.com/auth/success");
    const token = await auth.getAccessToken();

    // Back to the sign-in page, and through it again.
    await page.goBack();
    assert.match(await pageText(page), /Sign in to CARTO/);
    await signIn(page);
    const back = await page.waitForURL(/\/callback\//).catch((e: Error) => e);
    assert.match(String(back), /ERR_CONNECTION_REFUSED/);
    // Chromium's own error page: nothing listens any more.
    assert.match(await pageText(page), /localhost refused to connect/);

    const reload = await page.goto(seen.callback()).catch((e: Error) => e);
    assert.match(String(reload), /ERR_CONNECTION_REFUSED/);

    const tab = await context.newPage();
    const second = await tab.goto(await link).catch((e: Error) => e);
    assert.match(String(second), /ERR_CONNECTION_REFUSED/);
    assert.match(await pageText(tab), /localhost refused to connect/);

    assert.equal(fake.count("token"), 1, "one code exchange");
    assert.equal(await auth.getAccessToken(), token);
  },
);

browserTest(
  "Chromium: back to an old login's sign-in page and through it: that tab sees a clear page, the new login keeps waiting and then succeeds",
  async ({ fake, page }) => {
    const port = await freePort();
    // A first login the person leaves on its sign-in page until it gives up.
    const first = loginIn(fake, page, {
      redirectPort: port,
      loginTimeoutMs: 1000,
    });
    await page.waitForSelector("text=Sign in to CARTO");
    const oldSignIn = page.url();
    assert.equal((await rejection(first.login)).code, "timeout");
    // A new login on the same port, in the same tab.
    const { login, link } = loginIn(fake, page, { redirectPort: port });
    await page.waitForURL((url) =>
      url.pathname.endsWith("/authorize") && url.href !== oldSignIn
    );
    const newSignIn = page.url();
    // Back to the first login's sign-in page, and through it.
    await page.goBack();
    assert.equal(page.url(), oldSignIn);
    assert.notEqual(page.url(), newSignIn);
    await signIn(page);
    await page.waitForURL(
      new RegExp(`^http://localhost:${port}/callback/\\?`),
    );
    assert.match(await pageText(page), /This login link is out of date/);
    assert.match(await pageText(page), /Use the link of the newest login/);
    const pending = await Promise.race([
      login.then(() => "ended", () => "ended"),
      new Promise((r) => setTimeout(() => r("waiting"), 300)),
    ]);
    assert.equal(pending, "waiting");
    // The same browser opens the new login's link again and signs in.
    await page.goto(await link);
    await signIn(page);
    const auth = await login;
    await page.waitForURL("https://app.carto.com/auth/success");
    assert.ok(fake.isValidToken(await auth.getAccessToken()));
    assert.equal(fake.count("token"), 1, "the old code was never exchanged");
  },
);

browserTest(
  "Chromium: the person closes the page without finishing: the login times out with a clear message and nothing is left listening",
  async ({ fake, page }) => {
    const { login, link } = loginIn(fake, page, { loginTimeoutMs: 2000 });
    await page.waitForSelector("text=Sign in to CARTO");
    await page.close();
    const error = await rejection(login);
    assert.equal(error.code, "timeout");
    assert.match(
      error.message,
      /^The login was not completed within 2 s\. Run the login again when you are ready\.$/,
    );
    const port = Number(new URL(await link).port);
    assert.equal(await accepts("127.0.0.1", port), false);
    assert.equal(await accepts("::1", port), false);
    assert.equal(fake.count("token"), 0);
  },
);

browserTest(
  "Chromium, paste flow: the person opens the printed URL, signs in and copies the code CARTO's page shows",
  async ({ fake, page }) => {
    let shown = "";
    const auth = await CartoAuth.fromOAuth({
      endpoints: fake.endpoints,
      openBrowser: false,
      useCache: false,
      log: () => {},
      prompt: async (message) => {
        const [url] = /https?:\/\/\S+\/authorize\?\S+/.exec(message)!;
        await page.goto(url);
        await signIn(page);
        await page.waitForURL(/^https:\/\/app\.carto\.com\/auth\/token\?/);
        shown = await pageText(page);
        return await page.textContent("#code");
      },
    });
    assert.match(shown, /Copy this code/);
    assert.ok(fake.isValidToken(await auth.getAccessToken()));
  },
);

browserTest(
  "Chromium's speculative and kept-alive connections neither hang the login nor win a second callback; the port is free when the login returns",
  async ({ fake, context, page }) => {
    // The sign-in page asks the browser to preconnect to the login server, as
    // Chromium's predictor does for a host a navigation is known to lead to.
    await context.route(`${fake.url}/auth0/authorize?*`, async (route) => {
      const { searchParams } = new URL(route.request().url());
      const { port } = new URL(searchParams.get("redirect_uri")!);
      const response = await route.fetch();
      const hint = `<link rel="preconnect" href="http://localhost:${port}">` +
        `<link rel="preconnect" href="http://127.0.0.1:${port}">`;
      await route.fulfill({ response, body: hint + await response.text() });
    });
    const seen = navigations(page);
    const { login, link } = loginIn(fake, page);
    const port = Number(new URL(await link).port);
    // Connections that never send a request, as a preconnect leaves them.
    const idle = ["127.0.0.1", "::1"].map((host) => connect({ host, port }));
    try {
      // On the sign-in page, Chromium has connected too (beyond our two).
      await page.waitForSelector("text=Sign in to CARTO");
      for (let i = 0; i < 50 && await openConnections(port) <= 2; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const ahead = await openConnections(port);
      assert.ok(ahead > 2, `${ahead} connections open before the callback`);
      await signIn(page);
      const auth = await login;
      // The port is free when the login returns, idle connections or not.
      assert.equal(await accepts("127.0.0.1", port), false);
      assert.equal(await accepts("::1", port), false);
      await page.waitForURL("https://app.carto.com/auth/success");
      // The same callback again, over whatever connection the browser kept.
      const again = await page.goto(seen.callback()).catch((e: Error) => e);
      assert.match(String(again), /ERR_CONNECTION_REFUSED/);
      assert.equal(fake.count("token"), 1);
      assert.ok(fake.isValidToken(await auth.getAccessToken()));
    } finally {
      for (const socket of idle) socket.destroy();
    }
  },
);
