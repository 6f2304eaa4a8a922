import { test } from "node:test";
import assert from "node:assert/strict";
import { chmod, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { CliProcess, type Setup, setup } from "./cli_helpers.ts";

/** The URL the CLI prints: a loopback login's one-time start link, or a paste login's authorize URL. */
const AUTHORIZE_URL =
  /(http:\/\/(?:localhost:\d+\/start\/|127\.0\.0\.1:\d+\/auth0\/authorize\?)\S+)/;

/** A BROWSER command that writes the URL it is given to a file, as a browser "opening" it. */
async function recordingBrowser(
  s: Setup,
): Promise<{ command: string; opened: () => Promise<string> }> {
  const script = join(s.dir, "browser.sh");
  const target = join(s.dir, "opened-url");
  await writeFile(script, `#!/bin/sh\nprintf '%s' "$1" > '${target}'\n`);
  await chmod(script, 0o755);
  return {
    command: script,
    async opened() {
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const url = await readFile(target, "utf8").catch(() => "");
        if (url) return url;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error("the BROWSER command was never run");
    },
  };
}

async function cachedOAuth(s: Setup): Promise<Record<string, unknown>> {
  return JSON.parse(
    await readFile(join(s.cacheDir, "token_oauth.json"), "utf8"),
  );
}

test("login runs BROWSER with the login's start link, waits on the loopback server, and reports who and where", async () => {
  await using s = await setup();
  const browser = await recordingBrowser(s);
  const cli = new CliProcess(
    ["login", "--port", "0"],
    s.env({ BROWSER: browser.command }),
  );
  try {
    const url = await browser.opened();
    // Not the authorize URL: a command line is readable by every local user.
    assert.match(url, /^http:\/\/localhost:\d+\/start\/[\w-]{43}$/);
    // The URL is printed too, for when the browser does not open.
    await cli.waitFor("stderr", /If it does not open, visit:/);
    assert.ok(cli.stderr.includes(url));
    assert.equal(
      await s.fake.browser(url),
      "https://app.carto.com/auth/success",
    );
    const authorize = s.fake.requests.find((r) => r.route === "authorize")!;
    assert.equal(
      new URL(authorize.path, s.fake.url).searchParams.get("redirect_uri"),
      `http://localhost:${new URL(url).port}/callback/`,
    );
    const run = await cli.done;
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /✓ Logged in to CARTO as auth0\|fake-user/);
    assert.match(run.stderr, new RegExp(`Tenant: +${s.fake.tenantDomain}`));
    assert.match(run.stderr, new RegExp(`API base URL: +${s.fake.apiBaseUrl}`));
    assert.match(run.stderr, /Token expires: +in (59 minutes|1 hour) \(/);
    assert.match(run.stderr, /Saved to: +.*token_oauth\.json/);
    // No spinner without a terminal.
    assert.doesNotMatch(run.stderr, /Waiting for you/);
    const cached = await cachedOAuth(s);
    assert.ok(s.fake.isValidToken(cached.access_token as string));
    assert.equal(cached.api_base_url, s.fake.apiBaseUrl);
  } finally {
    cli.kill();
  }
});

test("CARTO_BROWSER wins over BROWSER, and %s marks where the URL goes", async () => {
  await using s = await setup();
  const browser = await recordingBrowser(s);
  const cli = new CliProcess(
    ["login", "--port", "0"],
    s.env({ BROWSER: "false", CARTO_BROWSER: `${browser.command} %s` }),
  );
  try {
    await s.fake.browser(await browser.opened());
    const run = await cli.done;
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stderr, /Could not open a browser/);
  } finally {
    cli.kill();
  }
});

test("a browser that fails to open leaves the printed URL, and the login still completes", async () => {
  await using s = await setup();
  const cli = new CliProcess(
    ["login", "--port", "0"],
    s.env({ BROWSER: "false" }),
  );
  try {
    const [, url] = await cli.waitFor("stderr", AUTHORIZE_URL);
    await cli.waitFor(
      "stderr",
      /Could not open a browser \(false exited with code 1\)\. Open the URL above yourself/,
    );
    await s.fake.browser(url);
    const run = await cli.done;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /Logged in to CARTO/);
  } finally {
    cli.kill();
  }
});

test("paste login without a terminal: prints the URL, reads the pasted URL from stdin", async () => {
  await using s = await setup();
  const cli = new CliProcess(["login"], s.env());
  try {
    await cli.waitFor(
      "stderr",
      /paste the code it shows \(or the whole URL you end on\) here: $/,
    );
    assert.match(
      cli.stderr,
      /Logging in without a local browser \(stdin is not a terminal\)/,
    );
    const [, url] = AUTHORIZE_URL.exec(cli.stderr)!;
    assert.equal(
      new URL(url).searchParams.get("redirect_uri"),
      "https://app.carto.com/auth/token",
    );
    cli.write(`${await s.fake.paste(cli.stderr)}\n`);
    const run = await cli.done;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /✓ Logged in to CARTO as auth0\|fake-user/);
    assert.ok(
      s.fake.isValidToken((await cachedOAuth(s)).access_token as string),
    );
  } finally {
    cli.kill();
  }
});

test("login --no-browser pastes even with BROWSER set, and takes the bare code", async () => {
  await using s = await setup();
  const cli = new CliProcess(
    ["login", "--no-browser"],
    s.env({ BROWSER: "false" }),
  );
  try {
    await cli.waitFor("stderr", /here: $/);
    assert.match(cli.stderr, /\(--no-browser\)/);
    const pasted = new URL(await s.fake.paste(cli.stderr));
    cli.write(`  ${pasted.searchParams.get("code")}  \n`);
    const run = await cli.done;
    assert.equal(run.code, 0, run.stderr);
    assert.doesNotMatch(run.stderr, /Could not open a browser/);
  } finally {
    cli.kill();
  }
});

test("paste login over SSH says why no browser is opened", async () => {
  await using s = await setup();
  // stdin is not a terminal in tests, so that reason comes first; the SSH reason is
  // shown by the terminal session test. Here: an empty stdin ends the login (exit 4).
  const run = await s.run(["login"], {
    env: { SSH_CONNECTION: "1.2.3.4 5 6.7.8.9 22" },
  });
  assert.equal(run.code, 4);
  assert.match(run.stderr, /No code was entered \(the input ended\)/);
  assert.equal(
    await readFile(join(s.cacheDir, "token_oauth.json"), "utf8").catch(() =>
      "none"
    ),
    "none",
  );
});

test("a pasted URL from another login attempt is refused", async () => {
  await using s = await setup();
  const cli = new CliProcess(["login"], s.env());
  try {
    await cli.waitFor("stderr", /here: $/);
    const pasted = new URL(await s.fake.paste(cli.stderr));
    pasted.searchParams.set("state", "someone-elses-state");
    cli.write(`${pasted.href}\n`);
    const run = await cli.done;
    assert.equal(run.code, 1);
    assert.match(run.stderr, /belongs to another login attempt/);
  } finally {
    cli.kill();
  }
});

test("a login the person cancels in the browser fails with exit 4 and CARTO's reason", async () => {
  await using s = await setup();
  s.fake.denyNextLogin("The user cancelled the login");
  const cli = new CliProcess(
    ["login", "--port", "0"],
    s.env({ BROWSER: "true" }),
  );
  try {
    const [, url] = await cli.waitFor("stderr", AUTHORIZE_URL);
    assert.equal(await s.fake.browser(url), "https://app.carto.com/auth/error");
    const run = await cli.done;
    assert.equal(run.code, 4);
    assert.match(
      run.stderr,
      /\(access_denied: The user cancelled the login\)/,
    );
  } finally {
    cli.kill();
  }
});

test("login --org NAME logs in through the organization, and later commands use that login", async () => {
  await using s = await setup();
  const cli = new CliProcess(
    ["login", "--org", "acme", "--port", "0"],
    s.env({ BROWSER: "true" }),
  );
  try {
    const [, url] = await cli.waitFor("stderr", AUTHORIZE_URL);
    await s.fake.browser(url);
    const authorize = s.fake.requests.find((r) => r.route === "authorize")!;
    assert.equal(
      new URL(authorize.path, s.fake.url).searchParams.get("organization"),
      "org_acme123",
    );
    const run = await cli.done;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /Organization: +acme/);
    assert.equal((await cachedOAuth(s)).org, "acme");
    const token = await s.run(["token"]);
    assert.equal(token.code, 0, token.stderr);
    assert.equal(token.stdout.trim(), (await cachedOAuth(s)).access_token);
    assert.equal(s.fake.count("authorize"), 1);
  } finally {
    cli.kill();
  }
});

test("login --org with an unknown organization says so", async () => {
  await using s = await setup();
  const run = await s.run(["login", "--org", "nobody"], {
    env: { BROWSER: "true" },
  });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /There is no CARTO organization named "nobody"/);
});

test("login --org with an org id CARTO's login does not know says the organization was not found", async () => {
  await using s = await setup();
  const cli = new CliProcess(
    ["login", "--org", "org_nope42", "--port", "0"],
    s.env({ BROWSER: "true" }),
  );
  try {
    const [, url] = await cli.waitFor("stderr", AUTHORIZE_URL);
    await s.fake.browser(url);
    const run = await cli.done;
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /^Error: CARTO's login does not know the organization "org_nope42" \(unknown organization\)\. Check the name or the org_… id \(your CARTO administrator has it\), or log in without --org\.$/m,
    );
    assert.doesNotMatch(run.stderr, /Log in again/);
  } finally {
    cli.kill();
  }
});

test("login --api-base-url skips the account lookup and uses that URL", async () => {
  await using s = await setup();
  const base = `${s.fake.url}/custom-api`;
  const cli = new CliProcess(
    ["login", "--api-base-url", base, "--port", "0"],
    s.env({ BROWSER: "true" }),
  );
  try {
    const [, url] = await cli.waitFor("stderr", AUTHORIZE_URL);
    await s.fake.browser(url);
    const run = await cli.done;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`API base URL: +${base}`));
    assert.doesNotMatch(run.stderr, /Tenant:/);
    assert.equal(s.fake.count("accounts"), 0);
    assert.equal((await cachedOAuth(s)).api_base_url, base);
  } finally {
    cli.kill();
  }
});

test("login --api-base-url refuses plain http to another host (usage error)", async () => {
  await using s = await setup();
  const run = await s.run(["login", "--api-base-url", "http://example.com"]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /--api-base-url must use https/);
});

test("login --port rejects what is not a port", async () => {
  await using s = await setup();
  for (const port of ["abc", "70000", "-1"]) {
    const run = await s.run(["login", `--port=${port}`]);
    assert.equal(run.code, 2, port);
    assert.match(run.stderr, /--port must be a whole number from 0 to 65535/);
  }
});

test("login on a port in use says what to do", async () => {
  await using s = await setup();
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const run = await s.run(["login", "--port", String(port)], {
      env: { BROWSER: "true" },
    });
    assert.equal(run.code, 1);
    // Advice for the CLI (its flags), not for library code (openBrowser: false).
    assert.equal(
      run.stderr,
      `Error: Port ${port} on localhost is already in use, so the login cannot ` +
        "receive the browser's answer. Is another carto-auth login running? Close " +
        "it and try again, or log in without the local server: carto-auth login " +
        "--no-browser (or pick another port with --port N).\n",
    );
  } finally {
    server.close();
  }
});

test("login refuses while CARTO_API_TOKEN is set", async () => {
  await using s = await setup();
  const run = await s.run(["login"], {
    env: { CARTO_API_TOKEN: "some-token" },
  });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /CARTO_API_TOKEN is set, so every command uses it/);
  assert.match(run.stderr, /unset CARTO_API_TOKEN/);
  assert.equal(s.fake.requests.length, 0);
});

test("login in CI does not prompt: exit 4 pointing to M2M", async () => {
  await using s = await setup();
  const run = await s.run(["login"], { env: { CI: "true" } });
  assert.equal(run.code, 4);
  assert.match(run.stderr, /CI is set, so no interactive login is started/);
  assert.match(run.stderr, /carto-auth login --m2m/);
  assert.equal(s.fake.requests.length, 0);
});

test("login replaces a cached login with a new one", async () => {
  await using s = await setup();
  await s.writeToken("oauth", {
    accessToken: "old-token",
    expiration: Math.floor(Date.now() / 1000) + 3600,
    apiBaseUrl: s.fake.apiBaseUrl,
  });
  const cli = new CliProcess(["login"], s.env());
  try {
    await cli.waitFor("stderr", /here: $/);
    cli.write(`${await s.fake.paste(cli.stderr)}\n`);
    const run = await cli.done;
    assert.equal(run.code, 0, run.stderr);
    const cached = await cachedOAuth(s);
    assert.notEqual(cached.access_token, "old-token");
    assert.ok(s.fake.isValidToken(cached.access_token as string));
  } finally {
    cli.kill();
  }
});
