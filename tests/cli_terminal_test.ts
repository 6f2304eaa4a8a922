/**
 * A terminal session in tmux: a person logs in over "SSH" (paste flow) and
 * runs a query, and the screen is checked as they would see it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cliCommand, exactEnv, setup } from "./cli_helpers.ts";

function hasTmux(): boolean {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

test(
  "terminal session: paste login over SSH, a query as a table, a browser login with its spinner, token logging in",
  { skip: hasTmux() ? false : "tmux is not installed" },
  async () => {
    await using s = await setup();
    const bin = join(s.dir, "bin");
    await mkdir(bin);
    await writeFile(
      join(bin, "carto-auth"),
      `#!/bin/sh\nexec ${cliCommand().map(quote).join(" ")} "$@"\n`,
    );
    await chmod(join(bin, "carto-auth"), 0o755);
    const socket = `carto-auth-test-${process.pid}-${Date.now()}`;
    const env = s.env({
      PATH: `${bin}:${process.env.PATH}`,
      PS1: "$ ",
      TERM: "xterm-256color",
      NO_COLOR: undefined,
      SSH_CONNECTION: "203.0.113.7 51234 198.51.100.2 22",
      TMUX: undefined,
    });
    const tmux = (...args: string[]) => {
      const [cmd, ...rest] = exactEnv(env, [
        "tmux",
        "-L",
        socket,
        "-f",
        "/dev/null",
        ...args,
      ]);
      return execFileSync(cmd, rest, { env, encoding: "utf8" });
    };
    const screen = () => tmux("capture-pane", "-p", "-J", "-t", "cli");
    const waitFor = async (re: RegExp, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const text = screen();
        if (re.test(text)) return text;
        if (Date.now() > deadline) {
          throw new Error(`${re} never appeared on the screen:\n${text}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const type = (line: string) => {
      tmux("send-keys", "-t", "cli", "-l", line);
      tmux("send-keys", "-t", "cli", "Enter");
    };
    tmux("new-session", "-d", "-s", "cli", "-x", "120", "-y", "50", "sh");
    try {
      // sh's prompt: "$ ", or "# " for root.
      await waitFor(/^[$#] $/m);
      type("carto-auth login");
      const prompt = await waitFor(/here: $/m);
      assert.match(
        prompt,
        /^Logging in without a local browser \(SSH session\)\.$/m,
      );
      assert.match(
        prompt,
        /^Open this URL in a browser and log in to CARTO:$/m,
      );
      type(await s.fake.paste(prompt));
      const loggedIn = await waitFor(/Saved to: .*\n[$#] $/m);
      assert.match(loggedIn, /^✓ Logged in to CARTO as auth0\|fake-user$/m);
      assert.match(loggedIn, /^ {2}Token expires: in (59 minutes|1 hour) \(/m);

      type(`carto-auth dw query "SELECT 1 AS n, 'hello' AS greeting"`);
      const query = await waitFor(/\(1 row\)\n[$#] $/m);
      const table = query.slice(query.lastIndexOf("carto-auth dw query"));
      assert.equal(
        table.trimEnd().replace(/[$#]$/, "$"),
        [
          `carto-auth dw query "SELECT 1 AS n, 'hello' AS greeting"`,
          "n  greeting",
          "─  ────────",
          "1  hello",
          "(1 row)",
          "$",
        ].join("\n"),
      );
      // A slow query with a retry: a spinner line with the job's state, the
      // time and what was read; a line for the retry and its reason; then
      // the table, the spinner gone.
      s.fake.bigquery.setResult("SELECT slow", {
        schema: [{ name: "n", type: "INTEGER", mode: "NULLABLE" }],
        rows: [{ f: [{ v: "42" }] }],
      }, { pendingPolls: 6, totalBytesProcessed: 2_500_000 });
      s.fake.failNext("bigquery", {
        status: 503,
        body: {
          error: {
            code: 503,
            message: "Backend error",
            errors: [{ reason: "backendError", message: "Backend error" }],
          },
        },
      });
      type(`carto-auth dw query "SELECT slow"`);
      const running = await waitFor(
        /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] BigQuery RUNNING · \d+\.\d s · job \S+ {2}\(Ctrl-C to cancel\)$/m,
      );
      assert.match(
        running,
        /^! BigQuery: HTTP 503 backendError; retrying in \d\.\d s \(1 of 2\)$/m,
      );
      console.log(`A frame while the query runs:\n${running.trimEnd()}`);
      const slow = await waitFor(/^42\n\(1 row\)\n[$#] $/m);
      assert.doesNotMatch(slow, /BigQuery RUNNING/);
      console.log(`The screen:\n${screen().trimEnd()}`);

      // Colours on the terminal (tmux shows them with -e), none with NO_COLOR.
      const colours = tmux("capture-pane", "-p", "-e", "-t", "cli");
      assert.ok(colours.includes("m✓") && colours.includes("\x1b["), colours);
      type("NO_COLOR=1 carto-auth status");
      await waitFor(/Token file: .*token_m2m\.json\n[$#] $/m);
      const plain = tmux("capture-pane", "-p", "-e", "-t", "cli");
      const status = plain.slice(
        plain.lastIndexOf("NO_COLOR=1 carto-auth status"),
      );
      assert.match(status, /← used by commands/);
      assert.ok(!status.includes("\x1b["), status);
      console.log(`The screen:\n${screen().trimEnd()}`);

      // A browser login: the URL, then a spinner while the browser is out,
      // gone once the login is done.
      tmux("send-keys", "-t", "cli", "clear", "Enter");
      await waitFor(/^[$#] $/m);
      type("BROWSER=true carto-auth login --port 0");
      const waiting = await waitFor(
        /Waiting for you to finish logging in in the browser… \(Ctrl-C to cancel\)/,
      );
      assert.match(waiting, /If it does not open, visit:/);
      const [url] = /http:\/\/localhost:\d+\/start\/\S+/.exec(waiting)!;
      await s.fake.browser(url);
      const done = await waitFor(/Saved to: .*\n[$#] $/m);
      assert.doesNotMatch(done, /Waiting for you/);
      assert.match(done, /✓ Logged in to CARTO as auth0\|fake-user/);
      console.log(`The screen:\n${screen().trimEnd()}`);

      // In a terminal, `token` with no login runs one, then prints the token.
      tmux("send-keys", "-t", "cli", "clear", "Enter");
      await waitFor(/^[$#] $/m);
      type("carto-auth logout && carto-auth token");
      const asked = await waitFor(/here: $/m);
      // It says why a login starts before asking for anything.
      assert.match(
        asked,
        /^! You are not logged in to CARTO, so this command logs you in first \(as carto-auth login does\)\.\nLogging in without a local browser \(SSH session\)/m,
      );
      type(await s.fake.paste(asked));
      const printed = await waitFor(/^eyJ[\w-]+\.[\w-]+\.[\w-]+\n[$#] $/m);
      const token = /^(eyJ\S+)$/m.exec(printed)![1];
      assert.ok(s.fake.isValidToken(token));

      // A display but no browser opener (no xdg-open on PATH): the paste
      // flow at once, saying why, instead of waiting for a browser.
      tmux("send-keys", "-t", "cli", "clear", "Enter");
      await waitFor(/^[$#] $/m);
      type(`SSH_CONNECTION= DISPLAY=:0 PATH=${bin} carto-auth login`);
      const noOpener = await waitFor(/here: $/m);
      assert.match(
        noOpener,
        /^Logging in without a local browser \(a display is set, but xdg-open is not installed\)\.$/m,
      );
      console.log(`No browser opener:\n${noOpener.trimEnd()}`);
      type(await s.fake.paste(noOpener));
      await waitFor(/Saved to: .*\n[$#] $/m);

      // dw query with an expired login says so, logs in, then queries.
      tmux("send-keys", "-t", "cli", "clear", "Enter");
      await waitFor(/^[$#] $/m);
      const file = join(s.cacheDir, "token_oauth.json");
      const cached = JSON.parse(await readFile(file, "utf8"));
      await writeFile(
        file,
        JSON.stringify({ ...cached, expiration: 1, expiration_utc: 1 }),
      );
      type(`carto-auth dw query "SELECT 7 AS n"; echo "exit $?"`);
      const relogin = await waitFor(/here: $/m);
      assert.match(
        relogin,
        /^! Your CARTO login has expired, so this command logs you in again first \(as carto-auth login does\)\.$/m,
      );
      console.log(`An expired login in dw query:\n${relogin.trimEnd()}`);
      type(await s.fake.paste(relogin));
      const queried = await waitFor(/^exit \d+\n[$#] $/m);
      assert.match(queried, /^n\n─\n7\n\(1 row\)\nexit 0$/m);

      // A second account in a profile: log in to it, make it the one
      // commands use, and see both in status.
      tmux("send-keys", "-t", "cli", "clear", "Enter");
      await waitFor(/^[$#] $/m);
      type("carto-auth login --profile work");
      const work = await waitFor(/here: $/m);
      type(await s.fake.paste(work));
      const workDone = await waitFor(/carto-auth use work\n[$#] $/m);
      assert.match(workDone, /^ {2}Profile: +work$/m);
      type("carto-auth use work && carto-auth status");
      const listed = await waitFor(/^\* work .*\n[$#] $/m);
      assert.match(listed, /^✓ Commands now use profile work \(/m);
      assert.match(listed, /^Profile work {2}\(chosen with carto-auth use\)$/m);
      assert.match(
        listed,
        /^ {2}default {2}127\.0\.0\.1:\d+ → auth0\|fake-user · expires in/m,
      );
      assert.match(
        listed,
        /^\* work {5}127\.0\.0\.1:\d+ → auth0\|fake-user · expires in/m,
      );
      console.log(`The screen:\n${screen().trimEnd()}`);
    } finally {
      tmux("kill-server");
    }
  },
);
