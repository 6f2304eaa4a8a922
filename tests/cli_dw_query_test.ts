/**
 * `carto-auth dw query`: parameters, SQL from stdin, --max-rows,
 * --location, BigQuery's errors, usage errors, no login, Ctrl-C, and no
 * progress when piped.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CliProcess, m2mSetup, setup } from "./cli_helpers.ts";

test("dw query --param: inferred INT64 and STRING, and NAME:TYPE=VALUE", async () => {
  await using s = await m2mSetup();
  const run = await s.q([
    "dw",
    "query",
    "SELECT @n AS n, @s AS s, @z AS z, @d AS d",
    "--param",
    "n=41",
    "-p",
    "s=hello world",
    "--param",
    "z:STRING=007",
    "--param",
    "d:DATE=2024-01-31",
    "--format",
    "json",
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), [{
    n: 41,
    s: "hello world",
    z: "007",
    d: "2024-01-31",
  }]);
  const body = JSON.parse(
    s.fake.requests.find((r) => r.route === "bigquery" && r.method === "POST")!
      .body,
  );
  const types = Object.fromEntries(
    body.queryParameters.map((
      p: { name: string; parameterType: { type: string } },
    ) => [p.name, p.parameterType.type]),
  );
  assert.deepEqual(types, { n: "INT64", s: "STRING", z: "STRING", d: "DATE" });
  assert.equal(body.parameterMode, "NAMED");
});

test("dw query --param infers FLOAT64 and BOOL, and keeps leading zeros as STRING", async () => {
  await using s = await m2mSetup();
  const run = await s.q([
    "dw",
    "query",
    "SELECT @x AS x, @b AS b, @zip AS zip",
    "--param",
    "x=1.25",
    "--param",
    "b=true",
    "--param",
    "zip=08001",
    "--json",
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), [{
    x: 1.25,
    b: true,
    zip: "08001",
  }]);
});

test("dw query reads the SQL from stdin with -", async () => {
  await using s = await m2mSetup();
  const run = await s.q(
    ["dw", "query", "-", "--format", "csv"],
    "SELECT 7 AS seven\n",
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "seven\n7\n");
});

test("dw query --max-rows stops after N rows: later pages are not fetched", async () => {
  await using s = await m2mSetup();
  s.fake.bigquery.setResult("SELECT many", {
    schema: [{ name: "i", type: "INTEGER" }],
    rows: Array.from({ length: 25 }, (_, i) => ({ f: [{ v: String(i) }] })),
  });
  const run = await s.q([
    "dw",
    "query",
    "SELECT many",
    "--max-rows",
    "3",
    "--format",
    "csv",
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "i\n0\n1\n2\n");
  // The result was cut, and stderr says so.
  assert.equal(
    run.stderr,
    "3 of 25 rows printed; --max-rows left out the rest.\n",
  );
  // 9 pages of 3: the first, and at most the one the client prefetches.
  const pages = s.fake.requests.filter((r) => r.route === "bigquery");
  assert.ok(pages.length <= 2, pages.map((p) => p.path).join(", "));
  assert.equal(JSON.parse(pages[0].body).maxResults, 3);
});

test("dw query --location goes to BigQuery", async () => {
  await using s = await m2mSetup();
  const run = await s.q([
    "dw",
    "query",
    "SELECT 1 AS n",
    "--location",
    "EU",
    "--json",
  ]);
  assert.equal(run.code, 0, run.stderr);
  const body = JSON.parse(
    s.fake.requests.find((r) => r.route === "bigquery")!.body,
  );
  assert.equal(body.location, "EU");
});

test("dw query with bad SQL shows BigQuery's message (exit 1)", async () => {
  await using s = await m2mSetup();
  const run = await s.q(["dw", "query", "SELEC nonsense"]);
  assert.equal(run.code, 1);
  assert.equal(run.stdout, "");
  assert.match(run.stderr, /^Error: .*Syntax error/m);
  assert.doesNotMatch(run.stderr, /CARTO_AUTH_DEBUG/);
});

test("dw query usage errors: no SQL, two SQLs, bad --format, --param, --max-rows", async () => {
  await using s = await m2mSetup();
  const cases: [string[], RegExp][] = [
    [[], /missing SQL/],
    [
      ["SELECT 1", "SELECT 2"],
      /too many arguments: "SELECT 2" \(quote the SQL as one argument\)/,
    ],
    [
      ["SELECT 1", "--format", "xml"],
      /unknown format "xml": use table, tsv, json, ndjson, csv/,
    ],
    [
      ["SELECT 1", "--format"],
      /flag --format needs a value \(--format FORMAT\)/,
    ],
    [
      ["SELECT 1", "--json", "--format", "csv"],
      /--json and --format csv cannot be used together/,
    ],
    [
      ["SELECT 1", "--param", "oops"],
      /--param "oops" is not NAME=VALUE or NAME:TYPE=VALUE/,
    ],
    [
      ["SELECT 1", "--param", "a=1", "--param", "a=2"],
      /--param a is given twice/,
    ],
    [["SELECT 1", "--param", "b:BOOL=yes"], /--param b: "yes" is not a BOOL/],
    [
      ["SELECT 1", "--param", "a:ARRAY<INT64>=1,2"],
      /--param a: an ARRAY value is written as JSON/,
    ],
    [
      ["SELECT 1", "--param", "n:INT64=abc"],
      /--param: .*"abc", which does not fit its type INT64/,
    ],
    [
      ["SELECT 1", "--max-rows", "0"],
      /--max-rows must be a positive integer, not "0"/,
    ],
    [
      ["SELECT 1", "--max-rows", "-1"],
      /--max-rows must be a positive integer, not "-1"/,
    ],
    [
      ["SELECT 1", "-p", "-1"],
      /--param "-1" is not NAME=VALUE or NAME:TYPE=VALUE/,
    ],
    [
      ["SELECT 1", "--max-row", "3"],
      /unknown flag --max-row \(did you mean --max-rows\?\)/,
    ],
    [["   "], /the SQL is empty/],
  ];
  for (const [args, message] of cases) {
    const run = await s.q(["dw", "query", ...args]);
    assert.equal(run.code, 2, args.join(" "));
    assert.match(run.stderr, message);
    assert.match(run.stderr, /Run 'carto-auth dw query --help' for usage\./);
    assert.equal(run.stdout, "");
  }
  assert.equal(s.fake.requests.length, 0);
});

test("dw query with no SQL on stdin is a usage error", async () => {
  await using s = await m2mSetup();
  const run = await s.q(["dw", "query", "-"], "");
  assert.equal(run.code, 2);
  assert.match(run.stderr, /no SQL on stdin/);
});

test("dw query when not logged in fails with exit 4 and says how to log in", async () => {
  await using s = await setup();
  const run = await s.run(["dw", "query", "SELECT 1 AS n"]);
  assert.equal(run.code, 4);
  assert.equal(
    run.stderr,
    "Error: You are not logged in to CARTO. No login was started because stdin " +
      "is not a terminal. Run: carto-auth login (or, for a machine, carto-auth " +
      "login --m2m)\n",
  );
  assert.equal(s.fake.requests.length, 0);
});

test("Ctrl-C during dw query stops it: exit 130, a message, nothing on stdout", async () => {
  await using s = await m2mSetup();
  let release!: () => void;
  const held = new Promise<void>((r) => release = r);
  let arrived!: () => void;
  const arrival = new Promise<void>((r) => arrived = r);
  s.fake.failNext("bigquery", async () => {
    arrived();
    await held;
    return new Response("{}", { status: 503 });
  });
  const cli = new CliProcess(["dw", "query", "SELECT 1 AS n"], s.env(s.m2mEnv));
  try {
    await arrival;
    cli.signal("SIGINT");
    const run = await cli.done;
    // Exit code 130, or (Deno) ending itself by SIGINT after cleaning up, as
    // Unix programs that handle Ctrl-C should: a shell sees 130 either way.
    assert.ok(run.code === 130 || run.signal === "SIGINT", run.stderr);
    assert.match(run.stderr, /The query was aborted/);
    assert.equal(run.stdout, "");
    assert.match(run.stderr, /Cancelling…/);
  } finally {
    release();
    cli.kill();
  }
});

test("dw query piped shows no progress, not even for a retry", async () => {
  await using s = await m2mSetup();
  s.fake.bigquery.setResult("SELECT slow", {
    schema: [{ name: "n", type: "INTEGER", mode: "NULLABLE" }],
    rows: [{ f: [{ v: "42" }] }],
  }, { pendingPolls: 2 });
  s.fake.failNext("bigquery", { status: 503, body: { error: "busy" } });
  const run = await s.q(["dw", "query", "SELECT slow"]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "n\n42\n");
  assert.equal(run.stderr, "");
  assert.equal(s.fake.count("bigquery") >= 4, true);
});
