/**
 * A real browser for the login tests: Debian's `chromium` (installed by
 * `.ci/run` with apt), headless, driven through playwright-core (which
 * downloads no browser of its own). Playwright starts each browser with a
 * fresh profile of its own (a temporary `--user-data-dir`).
 *
 * CARTO's own pages (`https://app.carto.com/auth/…`), where a login sends the
 * browser at its end, are out of reach here: the browser is given stand-ins
 * that show what the person would read there.
 */
import { existsSync } from "node:fs";
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Page,
} from "playwright-core";

/** Debian's Chromium. */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * Headless, no sandbox (root in CI), and none of the background connections
 * (component updates, sync, QUIC probes) that this machine's closed network
 * refuses and that would otherwise slow every start.
 */
export const CHROMIUM_FLAGS: string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Why the browser tests cannot run here, or `false`. */
export function noChromium(): string | false {
  return existsSync(CHROMIUM)
    ? false
    : `${CHROMIUM} is missing (apt-get install -y chromium; .ci/run does)`;
}

/** Starts headless Chromium. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    timeout: 60_000,
  });
}

/** Where CARTO's pages stand in, and what each shows. */
const CARTO_PAGES: Record<string, (url: URL) => string> = {
  "/auth/success": () => "<h1>You are logged in to CARTO</h1>",
  "/auth/error": () => "<h1>The CARTO login failed</h1>",
  // The paste flow's page shows the code to copy.
  "/auth/token": (url) =>
    `<h1>Copy this code</h1><code id="code">${
      (url.searchParams.get("code") ?? "").replace(/[^\w.~-]/g, "")
    }</code>`,
};

/** Serves stand-ins of CARTO's pages in `context`. */
export async function standInCartoPages(context: BrowserContext) {
  await context.route("https://app.carto.com/**", (route) => {
    const url = new URL(route.request().url());
    const body = CARTO_PAGES[url.pathname]?.(url);
    return body === undefined
      ? route.fulfill({ status: 404, body: "not a CARTO page" })
      : route.fulfill({ contentType: "text/html", body });
  });
}

/** A fresh browser profile (its own cookies) with CARTO's pages standing in. */
export async function freshContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext();
  await standInCartoPages(context);
  return context;
}

/** The person signs in on the fake CARTO's sign-in page shown in `page`. */
export async function signIn(page: Page, user = "fake-user"): Promise<void> {
  await page.waitForSelector("text=Sign in to CARTO");
  await page.fill('input[name="user"]', user);
  await page.click('button[value="sign-in"]');
}

/** The text the person reads on `page`. */
export async function pageText(page: Page): Promise<string> {
  return (await page.textContent("body")) ?? "";
}
