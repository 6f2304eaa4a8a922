/**
 * What `carto-auth dw credentials` and `carto-auth dw query` print: the
 * credentials as lines or JSON, and rows as a table, TSV, JSON, NDJSON or CSV.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { FakeResult } from "../src/testing/mod.ts";
import { m2mSetup } from "./cli_helpers.ts";

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
  await using s = await m2mSetup();
  const run = await s.q(["dw", "credentials"]);
  assert.equal(run.code, 0, run.stderr);
  const [project, token, ...rest] = run.stdout.split("\n");
  assert.equal(project, s.fake.dwProjectId);
  assert.match(token, /^ya29\.fake-/);
  assert.deepEqual(rest, [""]);
  assert.equal(run.stderr, "");
});

test("dw credentials --json prints {projectId, token}", async () => {
  await using s = await m2mSetup();
  const run = await s.q(["dw", "credentials", "--json"]);
  assert.equal(run.code, 0, run.stderr);
  const body = JSON.parse(run.stdout);
  assert.deepEqual(Object.keys(body), ["projectId", "token"]);
  assert.equal(body.projectId, s.fake.dwProjectId);
});

test("dw query prints an aligned table with --format table", async () => {
  await using s = await m2mSetup();
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
  await using s = await m2mSetup();
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
  await using s = await m2mSetup();
  const run = await s.q([
    "dw",
    "query",
    "SELECT 'a\tb' AS t, 'x\ny\\z' AS u",
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "t\tu\na\\tb\tx\\ny\\\\z\n");
});

test("dw query --format table shows NULL, right-aligns numbers and keeps cells on one line", async () => {
  await using s = await m2mSetup();
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
  await using s = await m2mSetup();
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
  await using s = await m2mSetup();
  s.fake.bigquery.setResult("SELECT nothing", {
    schema: [{ name: "n", type: "INTEGER" }],
    rows: [],
  });
  const run = await s.q(["dw", "query", "SELECT nothing", "--json"]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "[]\n");
});

test("dw query --format ndjson prints one object per line", async () => {
  await using s = await m2mSetup();
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
  await using s = await m2mSetup();
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
