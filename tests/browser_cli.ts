/**
 * The CLI's `login` in a terminal (tmux) with Chromium as `BROWSER` (issue
 * 15): the CLI starts the real browser with the login's start link, the
 * person signs in there, and the terminal says who is logged in.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import {
  CHROMIUM,
  CHROMIUM_FLAGS,
  noChromium,
  pageText,
  signIn,
  standInCartoPages,
} from "./browser_harness.ts";
import { setup } from "./cli_helpers.ts";
import { cliOnPath, noTmux, TmuxTerminal } from "./tmux_terminal.ts";

/** The command lines (as `ps` shows them) of the processes with an argument that contains `arg`. */
async function commandLines(arg: string): Promise<string[]> {
  const lines: string[] = [];
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const argv = (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() =>
      ""
    )).split("\0").filter(Boolean);
    if (
      argv.some((a) =>
        a.includes(arg)
      )
    ) lines.push(argv.join(" "));
  }
  return lines;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits for `check` to return something, up to `timeoutMs`. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen`);
    await sleep(100);
  }
}

test(
  "tmux, Chromium as BROWSER: `carto-auth login` starts the browser with its start link, the person signs in, the terminal says who is logged in",
  {
    skip: noChromium() || noTmux(),
  },
  async () => {
    await using s = await setup({ signInPage: true });
    const bin = await cliOnPath(s.dir);
    // The browser the CLI starts: a fresh profile, and a DevTools port for the
    // test to drive it (Chromium writes the port it picked into the profile).
    const profile = await mkdtemp(join(tmpdir(), "carto-auth-chromium-"));
    const browserCommand = [
      CHROMIUM,
      ...CHROMIUM_FLAGS,
      `--user-data-dir=${profile}`,
      "--remote-debugging-port=0",
    ].join(" ");
    const env = s.env({
      PATH: `${bin}:${process.env.PATH}`,
      PS1: "$ ",
      TERM: "xterm-256color",
      TMUX: undefined,
      BROWSER: browserCommand,
    });
    const terminal = new TmuxTerminal(env);
    let close = async () => {};
    try {
      await terminal.waitFor(/^[$#] $/m);
      terminal.type("carto-auth login --port 0");
      const waiting = await terminal.waitFor(
        /Waiting for you to finish logging in/,
      );
      const [link] = /http:\/\/localhost:\d+\/start\/\S+/.exec(waiting)!;

      const devtools = await eventually(
        "Chromium's DevTools port",
        async () =>
          (await readFile(join(profile, "DevToolsActivePort"), "utf8")
            .catch(() => "")).split("\n")[0] || undefined,
      );
      const browser = await chromium.connectOverCDP(
        `http://127.0.0.1:${devtools}`,
      );
      close = async () => {
        const cdp = await browser.newBrowserCDPSession();
        await cdp.send("Browser.close").catch(() => {});
      };
      const context = browser.contexts()[0];
      await standInCartoPages(context);
      const page = await eventually(
        "the sign-in page",
        () =>
          Promise.resolve(
            context.pages().find((p) => p.url().includes("/auth0/authorize?")),
          ),
      );
      // What every local user can read of the browser's command line: the
      // one-time start link, never the authorize URL's state or challenge.
      const lines = await commandLines(profile);
      assert.ok(
        lines.some((l) => l.split(" ").includes(link)),
        lines.join("\n"),
      );
      assert.ok(!lines.some((l) => /code_challenge|state=/.test(l)));
      assert.match(await pageText(page), /Sign in to CARTO/);
      await signIn(page);
      await page.waitForURL("https://app.carto.com/auth/success");
      assert.match(await pageText(page), /You are logged in to CARTO/);

      const done = await terminal.waitFor(/Saved to: .*\n[$#] $/m);
      assert.match(done, /^✓ Logged in to CARTO as auth0\|fake-user$/m);
      assert.doesNotMatch(done.slice(done.indexOf("✓")), /Waiting for you/);
      const cached = JSON.parse(
        await readFile(join(s.cacheDir, "token_oauth.json"), "utf8"),
      );
      assert.ok(s.fake.isValidToken(cached.access_token));
      assert.equal(s.fake.count("token"), 1);
      console.log(`The screen:\n${terminal.screen().trimEnd()}`);
    } finally {
      await close();
      terminal.close();
      await eventually(
        "Chromium's exit",
        async () => (await commandLines(profile)).length === 0 || undefined,
      );
      await rm(profile, { recursive: true, force: true });
    }
  },
);
