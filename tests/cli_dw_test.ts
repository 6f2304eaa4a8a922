import { test } from "node:test";
import assert from "node:assert/strict";
import type { FakeResult } from "../src/testing/mod.ts";
import { CliProcess, type Setup, setup } from "./cli_helpers.ts";

/** A setup whose commands run as the fake's M2M client (from the environment). */
async function m2m(): Promise<
  Setup & { q(args: string[], input?: string): ReturnType<Setup["run"]> }
> {
  const s = await setup();
  return Object.assign(s, {
    q: (args: string[], input?: string) =>
      s.run(args, { env: s.m2mEnv, input }),
  });
}

const TYPED: FakeResult = {
  schema: [
    { name: "id", type: "INTEGER", mode: "NULLABLE" },
    { name: "name", type: "STRING", mode: "NULLABLE" },
    { name: "score", type: "FLOAT", mode: "NULLABLE" },
    { name: "ok", type: "BOOLEAN", mode: "NULLABLE" },
    { name: "at", type: "TIMESTAMP", mode: "NULLABLE" },
    { name: "tags", type: "STRING", mode: "REPEATED" },
  ],
  rows: [
    {
      f: [
        { v: "9007199254740993" },
        { v: 'Zoë, "the" one' },
        { v: "1.5" },
        { v: "true" },
        { v: "1712609904434123" },
        { v: [{ v: "a" }, { v: "b" }] },
      ],
    },
    {
      f: [{ v: "2" }, { v: "" }, { v: null }, { v: "false" }, { v: null }, {
        v: [],
      }],
    },
  ],
};
const TYPED_SQL = "SELECT * FROM typed";

test("dw credentials prints the project id and the DW token, one per line", async () => {
  await using s = await m2m();
  const run = await s.q(["dw", "credentials"]);
  assert.equal(run.code, 0, run.stderr);
  const [project, token, ...rest] = run.stdout.split("\n");
  assert.equal(project, s.fake.dwProjectId);
  assert.match(token, /^ya29\.fake-/);
  assert.deepEqual(rest, [""]);
  assert.equal(run.stderr, "");
});

test("dw credentials --json prints {projectId, token}", async () => {
  await using s = await m2m();
  const run = await s.q(["dw", "credentials", "--json"]);
  assert.equal(run.code, 0, run.stderr);
  const body = JSON.parse(run.stdout);
  assert.deepEqual(Object.keys(body), ["projectId", "token"]);
  assert.equal(body.projectId, s.fake.dwProjectId);
});

test("dw query prints an aligned table with --format table", async () => {
  await using s = await m2m();
  const run = await s.q([
    "dw",
    "query",
    "SELECT 1 AS n, 'hello' AS greeting, 22.5 AS x",
    "--format",
    "table",
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(
    run.stdout,
    [
      "n  greeting     x",
      "─  ────────  ────",
      "1  hello     22.5",
      "",
    ].join("\n"),
  );
  assert.equal(run.stderr, "");
});

test("dw query piped prints tab-separated values by default, one line per row", async () => {
  await using s = await m2m();
  s.fake.bigquery.setResult(TYPED_SQL, TYPED);
  const run = await s.q(["dw", "query", TYPED_SQL]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(
    run.stdout,
    [
      "id\tname\tscore\tok\tat\ttags",
      '9007199254740993\tZoë, "the" one\t1.5\ttrue\t2024-04-08T20:58:24.434Z\t["a","b"]',
      "2\t\t\tfalse\t\t[]",
      "",
    ].join("\n"),
  );
  assert.equal(run.stderr, "");
  const explicit = await s.q(["dw", "query", TYPED_SQL, "--format", "tsv"]);
  assert.equal(explicit.stdout, run.stdout);
});

test("tsv escapes tabs, line ends and backslashes so a row stays one line", async () => {
  await using s = await m2m();
  const run = await s.q([
    "dw",
    "query",
    "SELECT 'a\tb' AS t, 'x\ny\\z' AS u",
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "t\tu\na\\tb\tx\\ny\\\\z\n");
});

test("dw query --format table shows NULL, right-aligns numbers and keeps cells on one line", async () => {
  await using s = await m2m();
  s.fake.bigquery.setResult(TYPED_SQL, TYPED);
  const run = await s.q(["dw", "query", TYPED_SQL, "--format", "table"]);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 4);
  assert.match(lines[0], /^ +id {2}name +score {2}ok +at +tags$/);
  assert.match(
    lines[2],
    /^9007199254740993 {2}Zoë, "the" one +1\.5 {2}true +2024-04-08T20:58:24\.434Z {2}\["a","b"\]$/,
  );
  assert.match(lines[3], /^ +2 +NULL +false +NULL +\[\]$/);
  // NULL in a column of numbers is right-aligned like them.
  assert.equal(lines[3].indexOf("NULL") + 4, lines[0].indexOf("score") + 5);
  // Columns line up: "name" starts at the same column in every row.
  const at = lines[0].indexOf("name");
  assert.equal(lines[0].indexOf("id") + 2, lines[2].indexOf("  Zoë"));
  assert.equal(lines[2].indexOf("Zoë"), at);
});

test("dw query --format json is exact: 64-bit integers keep every digit", async () => {
  await using s = await m2m();
  s.fake.bigquery.setResult(TYPED_SQL, TYPED);
  const run = await s.q(["dw", "query", TYPED_SQL, "--format", "json"]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /"id":9007199254740993,/);
  const rows = JSON.parse(run.stdout);
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[1], {
    id: 2,
    name: "",
    score: null,
    ok: false,
    at: null,
    tags: [],
  });
  assert.equal(rows[0].at, "2024-04-08T20:58:24.434Z");
  assert.deepEqual(rows[0].tags, ["a", "b"]);
  assert.equal(rows[0].name, 'Zoë, "the" one');
});

test("dw query --json is --format json; an empty result is []", async () => {
  await using s = await m2m();
  s.fake.bigquery.setResult("SELECT nothing", {
    schema: [{ name: "n", type: "INTEGER" }],
    rows: [],
  });
  const run = await s.q(["dw", "query", "SELECT nothing", "--json"]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "[]\n");
});

test("dw query --format ndjson prints one object per line", async () => {
  await using s = await m2m();
  s.fake.bigquery.setResult(TYPED_SQL, TYPED);
  const run = await s.q(["dw", "query", TYPED_SQL, "--format", "ndjson"]);
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.split("\n");
  assert.equal(lines.length, 3);
  assert.equal(lines[2], "");
  assert.equal(
    lines[0],
    '{"id":9007199254740993,"name":"Zoë, \\"the\\" one","score":1.5,"ok":true,"at":"2024-04-08T20:58:24.434Z","tags":["a","b"]}',
  );
  assert.equal(JSON.parse(lines[1]).id, 2);
});

test("dw query --format csv quotes what needs it and tells NULL from an empty string", async () => {
  await using s = await m2m();
  s.fake.bigquery.setResult(TYPED_SQL, TYPED);
  const run = await s.q(["dw", "query", TYPED_SQL, "-f", "csv"]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(
    run.stdout,
    [
      "id,name,score,ok,at,tags",
      '9007199254740993,"Zoë, ""the"" one",1.5,true,2024-04-08T20:58:24.434Z,"[""a"",""b""]"',
      '2,"",,false,,[]',
      "",
    ].join("\n"),
  );
});

test("dw query --param: inferred INT64 and STRING, and NAME:TYPE=VALUE", async () => {
  await using s = await m2m();
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
  await using s = await m2m();
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
  await using s = await m2m();
  const run = await s.q(
    ["dw", "query", "-", "--format", "csv"],
    "SELECT 7 AS seven\n",
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "seven\n7\n");
});

test("dw query --max-rows stops after N rows: later pages are not fetched", async () => {
  await using s = await m2m();
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
  await using s = await m2m();
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
  await using s = await m2m();
  const run = await s.q(["dw", "query", "SELEC nonsense"]);
  assert.equal(run.code, 1);
  assert.equal(run.stdout, "");
  assert.match(run.stderr, /^Error: .*Syntax error/m);
  assert.doesNotMatch(run.stderr, /CARTO_AUTH_DEBUG/);
});

test("dw query usage errors: no SQL, two SQLs, bad --format, --param, --max-rows", async () => {
  await using s = await m2m();
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
  await using s = await m2m();
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

test("sql runs a short query with GET on the connection and prints TSV when piped", async () => {
  await using s = await m2m();
  const run = await s.q(["sql", "carto_dw", "SELECT 1 AS n, 'x' AS s"]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "n\ts\n1\tx\n");
  const req = s.fake.requests.find((r) => r.route === "sql")!;
  assert.equal(req.method, "GET");
  const url = new URL(req.path, s.fake.url);
  assert.equal(url.pathname, "/api/v3/sql/carto_dw/query");
  assert.equal(url.searchParams.get("q"), "SELECT 1 AS n, 'x' AS s");
  assert.match(req.headers.get("authorization") ?? "", /^Bearer /);
});

test("sql sends a long query with POST", async () => {
  await using s = await m2m();
  const long = `SELECT '${"x".repeat(3000)}' AS s`;
  const run = await s.q(["sql", "carto_dw", long, "--format", "ndjson"]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).s.length, 3000);
  const req = s.fake.requests.find((r) => r.route === "sql")!;
  assert.equal(req.method, "POST");
  assert.equal(JSON.parse(req.body).q, long);
});

test("sql reads SQL from stdin and prints csv", async () => {
  await using s = await m2m();
  const run = await s.q(
    ["sql", "carto_dw", "-", "--format", "csv"],
    "SELECT 2 AS two, true AS t",
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "two,t\n2,true\n");
});

test("sql shows the SQL API's error (exit 1)", async () => {
  await using s = await m2m();
  const run = await s.q(["sql", "carto_dw", "SELEC 1"]);
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    /CARTO SQL API \(.*\/api\/v3\/sql\/carto_dw\/query\) answered HTTP 400 Syntax error/,
  );
});

test("sql usage errors: missing connection or SQL", async () => {
  await using s = await m2m();
  for (const args of [[], ["carto_dw"]]) {
    const run = await s.q(["sql", ...args]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /missing CONNECTION and SQL/);
    assert.match(run.stderr, /carto-auth sql --help/);
  }
});

test("a token the API refuses, even after renewal, is exit 4", async () => {
  await using s = await m2m();
  s.fake.failNext("sql", { status: 401, body: { error: "Unauthorized" } }, 2);
  const run = await s.q(["sql", "carto_dw", "SELECT 1 AS n"]);
  assert.equal(run.code, 4);
  assert.match(run.stderr, /HTTP 401/);
});

test("CARTO_API_TOKEN is used as is by dw and sql, and the API base URL is looked up", async () => {
  await using s = await m2m();
  const token = (await s.q(["token"])).stdout.trim();
  const env = { CARTO_API_TOKEN: token };
  const sql = await s.run(["sql", "carto_dw", "SELECT 3 AS n", "--json"], {
    env,
  });
  assert.equal(sql.code, 0, sql.stderr);
  assert.deepEqual(JSON.parse(sql.stdout), [{ n: 3 }]);
  assert.equal(s.fake.count("accounts"), 1);
  const dw = await s.run(["dw", "query", "SELECT 4 AS n", "--json"], {
    env: { ...env, CARTO_API_BASE_URL: s.fake.apiBaseUrl },
  });
  assert.equal(dw.code, 0, dw.stderr);
  assert.deepEqual(JSON.parse(dw.stdout), [{ n: 4 }]);
  assert.equal(s.fake.count("accounts"), 1);
  assert.equal(s.fake.count("token"), 1);
});

test("a refused CARTO_API_TOKEN says to replace or unset it (exit 4)", async () => {
  await using s = await m2m();
  const run = await s.run(["sql", "carto_dw", "SELECT 1 AS n"], {
    env: {
      CARTO_API_TOKEN: "not-a-valid-token",
      CARTO_API_BASE_URL: s.fake.apiBaseUrl,
    },
  });
  assert.equal(run.code, 4);
  assert.match(run.stderr, /CARTO_API_TOKEN was refused or has expired/);
  assert.doesNotMatch(run.stderr, /not-a-valid-token/);
});

test("Ctrl-C during dw query stops it: exit 130, a message, nothing on stdout", async () => {
  await using s = await m2m();
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
  await using s = await m2m();
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
