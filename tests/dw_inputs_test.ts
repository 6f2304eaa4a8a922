/**
 * Strict inputs: an option or parameter BigQuery would refuse (or read
 * differently) is a BigQueryError of code invalid_input naming the option
 * and the rule, and nothing is sent.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { BigQueryError, QueryOptions } from "../mod.ts";
import { bigqueryRequests, dwFixture } from "./dw_fixture.ts";
import { rejection } from "./rejection.ts";

const LONG = "a".repeat(64);

/** Each invalid input, and what its error says. */
const CASES: [string, QueryOptions, RegExp][] = [
  [
    "maxResults 2.5",
    { maxResults: 2.5 },
    /^maxResults must be a whole number of rows from 1 to 4294967295; got 2\.5\.$/,
  ],
  ["maxResults 0", { maxResults: 0 }, /^maxResults must be .*; got 0\.$/],
  [
    "maxResults 2^32",
    { maxResults: 2 ** 32 },
    /^maxResults must be .*; got 4294967296\.$/,
  ],
  [
    "maxResults as text",
    { maxResults: "10" as unknown as number },
    /^maxResults must be .*; got "10"\.$/,
  ],
  [
    "timeoutMs -1",
    { timeoutMs: -1 },
    /^timeoutMs must be a whole number of milliseconds from 0 to 4294967295; got -1\. For an overall deadline use signal: AbortSignal\.timeout\(ms\)\.$/,
  ],
  ["timeoutMs 1.5", { timeoutMs: 1.5 }, /^timeoutMs must be .*; got 1\.5\./],
  ["timeoutMs NaN", { timeoutMs: NaN }, /^timeoutMs must be .*; got NaN\./],
  [
    "maximumBytesBilled 1e21",
    { maximumBytesBilled: 1e21 },
    /^maximumBytesBilled must be a whole number of bytes from 0 to 2\^63 − 1; got 1e\+21, beyond Number\.MAX_SAFE_INTEGER where numbers are no longer exact: pass it as a bigint or a decimal string\.$/,
  ],
  [
    "maximumBytesBilled -1",
    { maximumBytesBilled: -1 },
    /^maximumBytesBilled must be a whole number of bytes from 0 to 2\^63 − 1 \(a number, bigint or decimal string\); got -1\.$/,
  ],
  [
    "maximumBytesBilled 1.5",
    { maximumBytesBilled: 1.5 },
    /^maximumBytesBilled .*; got 1\.5\.$/,
  ],
  [
    'maximumBytesBilled "1e+21"',
    { maximumBytesBilled: "1e+21" },
    /^maximumBytesBilled .*; got "1e\+21"\.$/,
  ],
  [
    "maximumBytesBilled 2^63",
    { maximumBytesBilled: 2n ** 63n },
    /^maximumBytesBilled .*; got 9223372036854775808n\.$/,
  ],
  [
    'maximumBytesBilled "2^63"',
    { maximumBytesBilled: "9223372036854775808" },
    /^maximumBytesBilled .*; got "9223372036854775808"\.$/,
  ],
  [
    "a label key with capitals",
    { labels: { Team: "geo" } },
    /^The label key "Team" is not valid: keys are 1 to 63 lowercase letters \(international ones too\), digits, "_" or "-", and start with a letter\.$/,
  ],
  [
    "a label key starting with a digit",
    { labels: { "1st": "x" } },
    /^The label key "1st" is not valid/,
  ],
  [
    "an empty label key",
    { labels: { "": "x" } },
    /^The label key "" is not valid/,
  ],
  [
    "a 64-character label key",
    { labels: { [LONG]: "x" } },
    /^The label key "a{64}" is not valid/,
  ],
  [
    "a label key with a space",
    { labels: { "my team": "x" } },
    /^The label key "my team" is not valid/,
  ],
  [
    "a label value with capitals",
    { labels: { team: "Geo" } },
    /^The value of label "team" is not valid: values are strings of 0 to 63 lowercase letters \(international ones too\), digits, "_" or "-"; got "Geo"\.$/,
  ],
  [
    "a 64-character label value",
    { labels: { team: LONG } },
    /^The value of label "team" is not valid/,
  ],
  ["a label value that is a number", {
    labels: { team: 1 as unknown as string },
  }, /^The value of label "team" is not valid: .*; got 1\.$/],
  [
    "65 labels",
    {
      labels: Object.fromEntries(
        Array.from({ length: 65 }, (_, i) => [`l${i}`, ""]),
      ),
    },
    /^labels: the query would have 65 labels \(its own and the client's\); BigQuery allows at most 64\.$/,
  ],
  [
    "labels as an array",
    { labels: ["a"] as unknown as Record<string, string> },
    /^labels must be an object of key → value strings; got an array\.$/,
  ],
  [
    "an empty location",
    { location: "" },
    /^location must be a non-empty string such as "US" or "europe-west1"; got ""\.$/,
  ],
  [
    "useQueryCache as text",
    { useQueryCache: "false" as unknown as boolean },
    /^useQueryCache must be true or false; got "false"\.$/,
  ],
  [
    "an unknown jobCreationMode",
    { jobCreationMode: "OPTIONAL" as "JOB_CREATION_OPTIONAL" },
    /^jobCreationMode must be "JOB_CREATION_OPTIONAL" or "JOB_CREATION_REQUIRED"; got "OPTIONAL"\.$/,
  ],
  [
    "an unknown int64 mode",
    { int64: "BigInt" as "bigint" },
    /^int64 must be "number", "bigint" or "string"; got "BigInt"\.$/,
  ],
  [
    "a STRUCT value with a field its type lacks",
    { params: { p: { x: 1, y: 2 } }, types: { p: "STRUCT<x INT64>" } },
    /^The value of query parameter "p" has a field "y" that its type STRUCT<x INT64> does not\.$/,
  ],
  [
    "an array of STRUCTs whose later element has an extra field",
    { params: { p: [{ x: 1 }, { x: 2, y: 3 }] } },
    /^The value of query parameter "p"\[1\] has a field "y" that its type STRUCT<x INT64> does not\.$/,
  ],
];

for (const [name, options, message] of CASES) {
  test(`${name} is refused before anything is sent, by query(), queryRows() and dryRun()`, async () => {
    await using f = await dwFixture();
    for (
      const run of [
        () => f.dw.query("SELECT 1 AS n", options),
        () => f.dw.queryRows("SELECT 1 AS n", options).next(),
        () => f.dw.dryRun("SELECT 1 AS n", options),
      ]
    ) {
      const error = await rejection<BigQueryError>(run());
      assert.equal(error.name, "BigQueryError");
      assert.equal(error.code, "invalid_input");
      assert.match(error.message, message);
    }
    assert.deepEqual(bigqueryRequests(f.fake), [], "no request was made");
  });
}

test("an SQL text that is empty or not a string is refused before anything is sent", async () => {
  await using f = await dwFixture();
  for (const sql of ["", "  \n", undefined as unknown as string]) {
    const error = await rejection<BigQueryError>(f.dw.query(sql));
    assert.equal(error.code, "invalid_input");
    assert.match(
      error.message,
      /^The query must be a non-empty string of SQL; got/,
    );
  }
  assert.deepEqual(bigqueryRequests(f.fake), []);
});

test("invalid client defaults (labels, location, int64) are refused at the first query", async () => {
  for (
    const [defaults, message] of [
      [{ labels: { Team: "geo" } }, /^The label key "Team" is not valid/],
      [{ location: "" }, /^location must be a non-empty string/],
      [
        { int64: "BIGINT" as "bigint" },
        /^int64 must be "number", "bigint" or "string"/,
      ],
    ] as const
  ) {
    await using f = await dwFixture(defaults);
    const error = await rejection<BigQueryError>(f.dw.query("SELECT 1 AS n"));
    assert.equal(error.code, "invalid_input");
    assert.match(error.message, message);
    assert.deepEqual(bigqueryRequests(f.fake), []);
  }
});

test("the limits themselves are accepted and sent as BigQuery wants them", async () => {
  await using f = await dwFixture();
  const labels = {
    [LONG.slice(1)]: LONG.slice(1), // 63 characters each
    "ünï-cödé_1": "",
    "日本": "値-2",
    ...Object.fromEntries(Array.from({ length: 61 }, (_, i) => [`l${i}`, ""])),
  };
  await f.dw.query("SELECT 1 AS n", {
    maxResults: 2 ** 32 - 1,
    timeoutMs: 0,
    maximumBytesBilled: 2n ** 63n - 1n,
    labels,
  });
  await f.dw.query("SELECT 1 AS n", {
    maximumBytesBilled: Number.MAX_SAFE_INTEGER,
  });
  await f.dw.query("SELECT 1 AS n", { maximumBytesBilled: "0" });
  const [first, second, third] = bigqueryRequests(f.fake).map((r) => r.body);
  assert.equal(first.maxResults, 4294967295);
  assert.equal(first.timeoutMs, 0);
  assert.equal(first.maximumBytesBilled, "9223372036854775807");
  assert.deepEqual(first.labels, labels);
  assert.equal(second.maximumBytesBilled, "9007199254740991");
  assert.equal(third.maximumBytesBilled, "0");
});
