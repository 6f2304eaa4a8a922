/**
 * Query parameters the client refuses before sending anything, each with a
 * message that names the parameter and says what to do.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BigQueryError } from "../mod.ts";
import { bigqueryRequests, dwFixture } from "./dw_fixture.ts";

/** The message of the error `params` (and `types`) make, before any request. */
async function paramError(
  params: unknown,
  types?: unknown,
): Promise<BigQueryError> {
  await using f = await dwFixture();
  const error = await f.dw.query("SELECT 1 AS n", {
    params: params as Record<string, unknown>,
    types: types as Record<string, string>,
  }).then(() => undefined, (e) => e);
  assert.ok(error instanceof BigQueryError, String(error));
  assert.equal(error.code, "invalid_input");
  assert.equal(bigqueryRequests(f.fake).length, 0, "nothing was sent");
  return error;
}

test("parameter errors name the parameter and say what to do", async () => {
  const cases: [unknown, unknown, string][] = [
    [
      { x: null },
      undefined,
      'The value of query parameter "x" is null, so its type cannot be inferred: give it with types: { x: "STRING" }.',
    ],
    [
      [1, undefined],
      undefined,
      'The value of query parameter 2 is undefined, so its type cannot be inferred: give it with types: [, "STRING"].',
    ],
    [
      { ids: [] },
      undefined,
      'The value of query parameter "ids" is an empty array, so its type cannot be inferred: give it with types: { ids: "ARRAY<INT64>" }.',
    ],
    [
      { p: { a: null } },
      undefined,
      'The value of query parameter "p".a is null, so its type cannot be inferred: give it with the type of the whole parameter in types (e.g. "STRUCT<name STRING>").',
    ],
    [
      { xs: [1, "a"] },
      undefined,
      'The value of query parameter "xs" mixes number and string elements; a BigQuery array holds one type.',
    ],
    [
      { m: [[1], [2]] },
      undefined,
      'The value of query parameter "m" is an array of arrays, which BigQuery does not have: use an array of objects (STRUCTs) holding arrays.',
    ],
    [
      { n: 2 ** 60 },
      undefined,
      'The value of query parameter "n" is 1152921504606847000, an integer beyond Number.MAX_SAFE_INTEGER that may already be rounded: pass it as a bigint or a string with its type, or give its type as "FLOAT64".',
    ],
    [
      { n: 2n ** 64n },
      undefined,
      'The value of query parameter "n" is 18446744073709551616, beyond INT64: give its type as "NUMERIC" or "BIGNUMERIC".',
    ],
    [
      { f: () => 1 },
      undefined,
      'The value of query parameter "f" is a function, which has no BigQuery type.',
    ],
    [
      { m: new Map() },
      undefined,
      'The value of query parameter "m" is a Map, which has no BigQuery type.',
    ],
    [
      { d: "soon" },
      { d: "INT64" },
      'The value of query parameter "d" is the string "soon", which does not fit its type INT64.',
    ],
    [
      { d: new Date(NaN) },
      undefined,
      'The value of query parameter "d" is an invalid Date.',
    ],
    [
      { s: { a: 1, extra: 2 } },
      { s: "STRUCT<a INT64>" },
      'The value of query parameter "s" has a field "extra" that its type STRUCT<a INT64> does not.',
    ],
    [
      { n: 1 },
      { n: "INTT64" },
      'The type given for query parameter "n" is not valid: unknown type "INTT64". Write a GoogleSQL type such as "INT64", "ARRAY<STRING>" or "STRUCT<x FLOAT64, y FLOAT64>".',
    ],
    [
      { n: [1] },
      { n: "ARRAY<INT64" },
      'The type given for query parameter "n" is not valid: expected ">" in "ARRAY<INT64". Write a GoogleSQL type such as "INT64", "ARRAY<STRING>" or "STRUCT<x FLOAT64, y FLOAT64>".',
    ],
    [
      { n: 1 },
      { m: "INT64" },
      'types names "m", which is not in params.',
    ],
    [
      { "bad-name": 1 },
      undefined,
      'Query parameter name "bad-name" is not valid: use letters, digits and underscores, not starting with a digit.',
    ],
    [
      { n: 1 },
      ["INT64"],
      "types must be an object, like params.",
    ],
  ];
  for (const [params, types, message] of cases) {
    const error = await paramError(params, types);
    assert.equal(error.message, message);
  }
});

test("a JSON parameter that cannot be JSON text is refused naming it, before anything is sent", async () => {
  const cases: [unknown, RegExp][] = [
    [
      "hello",
      /^The value of query parameter "doc" is the string "hello", which is not JSON text: a string given for a JSON parameter is sent as JSON text\. For a JSON string, pass JSON\.stringify\(text\)\.$/,
    ],
    [
      '{"a":1',
      /^The value of query parameter "doc" is the string "\{\\"a\\":1", which is not JSON text/,
    ],
    [
      { n: 1n },
      /^The value of query parameter "doc" cannot be written as JSON: .*BigInt.*\.$/i,
    ],
    [
      () => 1,
      /^The value of query parameter "doc" is a function, which does not fit its type JSON\.$/,
    ],
  ];
  for (const [doc, message] of cases) {
    const error = await paramError({ doc }, { doc: "JSON" });
    assert.match(error.message, message);
  }
});
