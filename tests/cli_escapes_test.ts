/**
 * Issue 11, item 5: text from servers reaches the terminal shown, never
 * obeyed. Each route a hostile server (or a planted cache file) can feed
 * the CLI carries OSC (window title, hyperlink), CSI (clear screen) and a
 * C1 CSI; none of them may reach stdout or stderr as a control character.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CliProcess, fakeJwt, now, setup } from "./cli_helpers.ts";

/** Retitles the window, clears the screen, and a C1 CSI (one byte) that clears it again. */
const EVIL = "\x1b]0;pwned\x07\x1b[2J\x9b2J\x1b]8;;https://evil.example\x07";
/** How {@linkcode EVIL} must look once neutralized. */
const SHOWN = "^[]0;pwned^G^[[2J\\u009b2J^[]8;;https://evil.example^G";

/** Fails when `text` holds a C0 (other than line feed and tab), DEL or C1 control character. */
function assertNoControls(text: string, where: string): void {
  // deno-lint-ignore no-control-regex
  const found = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/.exec(text);
  assert.equal(
    found,
    null,
    `${where} holds the control character ${JSON.stringify(found?.[0])}: ${
      JSON.stringify(text)
    }`,
  );
}

test("escapes: a SQL API error message is shown, not obeyed", async () => {
  await using s = await setup();
  s.fake.failNext("sql", { status: 400, body: { error: `bad ${EVIL} query` } });
  const run = await s.run(["sql", "carto_dw", "SELECT 1"], { env: s.m2mEnv });
  assert.equal(run.code, 1);
  assertNoControls(run.stderr, "stderr");
  assert.ok(run.stderr.includes(`bad ${SHOWN} query`), run.stderr);
});

test("escapes: a BigQuery error message is shown, not obeyed", async () => {
  await using s = await setup();
  s.fake.bigquery.setError("SELECT evil", {
    message: `Syntax error ${EVIL} at [1:1]`,
  });
  const run = await s.run(["dw", "query", "SELECT evil"], { env: s.m2mEnv });
  assert.equal(run.code, 1);
  assertNoControls(run.stderr, "stderr");
  assert.ok(run.stderr.includes(`Syntax error ${SHOWN}`), run.stderr);
});

test("escapes: the account (JWT email) in status, as text and JSON", async () => {
  await using s = await setup();
  await s.writeToken("oauth", {
    accessToken: fakeJwt({
      sub: "auth0|x",
      "https://carto.com/email": `jane${EVIL}@example.com`,
      exp: now() + 3600,
    }),
    expiration: now() + 3600,
    apiBaseUrl: s.fake.apiBaseUrl,
    org: `acme${EVIL}`,
  });
  const text = await s.run(["status"]);
  assert.equal(text.code, 0, text.stderr);
  assertNoControls(text.stdout, "status");
  assert.ok(text.stdout.includes(`jane${SHOWN}@example.com`), text.stdout);
  assert.ok(text.stdout.includes(`acme${SHOWN}`), text.stdout);
  const json = await s.run(["status", "--json"]);
  assertNoControls(json.stdout, "status --json");
  // Still the same JSON value: the escapes are JSON's own.
  assert.equal(
    JSON.parse(json.stdout).oauth.account,
    `jane${EVIL}@example.com`,
  );
});

test("escapes: the JWT subject in 'Logged in as' after a login", async () => {
  await using s = await setup();
  const evilToken = fakeJwt({ sub: `auth0|${EVIL}`, exp: now() + 3600 });
  const cli = new CliProcess(
    ["login", "--api-base-url", s.fake.apiBaseUrl],
    s.env(),
  );
  try {
    await cli.waitFor("stderr", /here: $/);
    const pasted = await s.fake.paste(cli.stderr);
    s.fake.failNext("token", {
      status: 200,
      body: { access_token: evilToken, expires_in: 3600, token_type: "Bearer" },
    });
    cli.write(`${pasted}\n`);
    const run = await cli.done;
    assert.equal(run.code, 0, run.stderr);
    assertNoControls(run.stderr, "stderr");
    assert.ok(
      run.stderr.includes(`Logged in to CARTO as auth0|${SHOWN}`),
      run.stderr,
    );
  } finally {
    cli.kill();
  }
});

test("escapes: error_description from the login callback", async () => {
  await using s = await setup();
  const cli = new CliProcess(["login"], s.env());
  try {
    await cli.waitFor("stderr", /here: $/);
    const url = new URL(
      /http:\/\/127\.0\.0\.1:\d+\/auth0\/authorize\?\S+/.exec(cli.stderr)![0],
    );
    const back = new URL("https://app.carto.com/auth/token");
    back.searchParams.set("state", url.searchParams.get("state")!);
    back.searchParams.set("error", "access_denied");
    back.searchParams.set("error_description", `denied ${EVIL}`);
    cli.write(`${back.href}\n`);
    const run = await cli.done;
    assert.equal(run.code, 4);
    assertNoControls(run.stderr, "stderr");
    assert.ok(run.stderr.includes(`denied ${SHOWN}`), run.stderr);
  } finally {
    cli.kill();
  }
});

test("escapes: the DW project id from the server, and a planted token", async () => {
  await using s = await setup();
  s.fake.failNext("dwToken", {
    status: 200,
    body: { projectId: `p${EVIL}`, token: "ya29.fake-evil" },
  });
  const creds = await s.run(["dw", "credentials"], { env: s.m2mEnv });
  assert.equal(creds.code, 0, creds.stderr);
  assertNoControls(creds.stdout, "dw credentials");
  assert.equal(creds.stdout, `p${SHOWN}\nya29.fake-evil\n`);

  await s.writeToken("oauth", {
    accessToken: `tok${EVIL}`,
    expiration: now() + 3600,
    apiBaseUrl: s.fake.apiBaseUrl,
  });
  const token = await s.run(["token"]);
  assert.equal(token.code, 0, token.stderr);
  assert.equal(token.stdout, `tok${SHOWN}\n`);
});

test("escapes: query values in a table, TSV and JSON on stdout", async () => {
  await using s = await setup();
  const sql = "SELECT evil_value";
  s.fake.bigquery.setResult(sql, {
    schema: [{ name: "v", type: "STRING", mode: "NULLABLE" }],
    rows: [{ f: [{ v: `x${EVIL}` }] }],
  });
  for (const format of ["table", "tsv", "json", "ndjson"]) {
    const run = await s.run(["dw", "query", sql, "--format", format], {
      env: s.m2mEnv,
    });
    assert.equal(run.code, 0, run.stderr);
    if (format !== "tsv") assertNoControls(run.stdout, format);
    if (format.includes("json")) {
      // Exact: the same string once parsed.
      const row = format === "json"
        ? JSON.parse(run.stdout)[0]
        : JSON.parse(run.stdout);
      assert.equal(row.v, `x${EVIL}`);
    }
  }
});
