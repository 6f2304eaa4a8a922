/**
 * Query parameters as BigQuery receives them and as they come back: named
 * and positional, inferred and explicit types, FLOAT64 specials, RANGEs and
 * JSON.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { bigqueryRequests, dwFixture } from "./dw_fixture.ts";

/** The query parameters of the only jobs.query the fake received. */
function sentParameters(
  fake: Parameters<typeof bigqueryRequests>[0],
): { mode: unknown; params: unknown } {
  const [request] = bigqueryRequests(fake);
  return {
    mode: request.body.parameterMode,
    params: request.body.queryParameters,
  };
}

test("named parameters of every inferred kind round-trip through BigQuery", async () => {
  await using f = await dwFixture();
  const params = {
    int: 42,
    float: 2.5,
    big: 9007199254740993n,
    text: "it's",
    yes: true,
    at: new Date("2024-04-08T20:58:24.434Z"),
    blob: new Uint8Array([0, 1, 254, 255]),
    ints: [1, 2, 3],
    mixed: [1, 2.5],
    point: { x: 1.5, label: "p", tags: ["a", "b"], inner: { ok: false } },
    points: [{ x: 1 }, { x: 2 }],
  };
  const sql = `SELECT ${
    Object.keys(params).map((name) => `@${name} AS ${name}`).join(", ")
  }`;
  const { rows } = await f.dw.query(sql, { params, int64: "bigint" });
  assert.deepEqual(rows, [{
    ...params,
    int: 42n,
    ints: [1n, 2n, 3n],
    point: { ...params.point },
    points: [{ x: 1n }, { x: 2n }],
  }]);
  const { mode, params: sent } = sentParameters(f.fake);
  assert.equal(mode, "NAMED");
  assert.deepEqual(sent, [
    {
      name: "int",
      parameterType: { type: "INT64" },
      parameterValue: { value: "42" },
    },
    {
      name: "float",
      parameterType: { type: "FLOAT64" },
      parameterValue: { value: "2.5" },
    },
    {
      name: "big",
      parameterType: { type: "INT64" },
      parameterValue: { value: "9007199254740993" },
    },
    {
      name: "text",
      parameterType: { type: "STRING" },
      parameterValue: { value: "it's" },
    },
    {
      name: "yes",
      parameterType: { type: "BOOL" },
      parameterValue: { value: "true" },
    },
    {
      name: "at",
      parameterType: { type: "TIMESTAMP" },
      parameterValue: { value: "2024-04-08T20:58:24.434Z" },
    },
    {
      name: "blob",
      parameterType: { type: "BYTES" },
      parameterValue: { value: "AAH+/w==" },
    },
    {
      name: "ints",
      parameterType: { type: "ARRAY", arrayType: { type: "INT64" } },
      parameterValue: {
        arrayValues: [{ value: "1" }, { value: "2" }, { value: "3" }],
      },
    },
    {
      name: "mixed",
      parameterType: { type: "ARRAY", arrayType: { type: "FLOAT64" } },
      parameterValue: { arrayValues: [{ value: "1" }, { value: "2.5" }] },
    },
    {
      name: "point",
      parameterType: {
        type: "STRUCT",
        structTypes: [
          { name: "x", type: { type: "FLOAT64" } },
          { name: "label", type: { type: "STRING" } },
          {
            name: "tags",
            type: { type: "ARRAY", arrayType: { type: "STRING" } },
          },
          {
            name: "inner",
            type: {
              type: "STRUCT",
              structTypes: [{ name: "ok", type: { type: "BOOL" } }],
            },
          },
        ],
      },
      parameterValue: {
        structValues: {
          x: { value: "1.5" },
          label: { value: "p" },
          tags: { arrayValues: [{ value: "a" }, { value: "b" }] },
          inner: { structValues: { ok: { value: "false" } } },
        },
      },
    },
    {
      name: "points",
      parameterType: {
        type: "ARRAY",
        arrayType: {
          type: "STRUCT",
          structTypes: [{ name: "x", type: { type: "INT64" } }],
        },
      },
      parameterValue: {
        arrayValues: [
          { structValues: { x: { value: "1" } } },
          { structValues: { x: { value: "2" } } },
        ],
      },
    },
  ]);
});

test("positional parameters are sent in order with parameterMode POSITIONAL", async () => {
  await using f = await dwFixture();
  const { rows } = await f.dw.query("SELECT ? AS a, ? AS b, ? AS c", {
    params: [1, "two", null],
    types: [undefined, undefined, "DATE"],
  });
  assert.deepEqual(rows, [{ a: 1, b: "two", c: null }]);
  const { mode, params } = sentParameters(f.fake);
  assert.equal(mode, "POSITIONAL");
  assert.deepEqual(params, [
    { parameterType: { type: "INT64" }, parameterValue: { value: "1" } },
    { parameterType: { type: "STRING" }, parameterValue: { value: "two" } },
    { parameterType: { type: "DATE" }, parameterValue: { value: null } },
  ]);
});

test("explicit types cover what values cannot say: null, empty arrays, DATE, NUMERIC, JSON, RANGE", async () => {
  await using f = await dwFixture();
  const { rows } = await f.dw.query(
    "SELECT @none AS none, @empty AS empty, @day AS day, @price AS price, " +
      "@doc AS doc, @span AS span, @civil AS civil, @n AS n, @s AS s",
    {
      params: {
        none: null,
        empty: [],
        day: new Date("2024-04-08T20:58:24.434Z"),
        price: "12345678901234567890.123456789",
        doc: { a: [1, "x"] },
        span: { start: "2024-01-01", end: null },
        civil: new Date("2024-04-08T20:58:24.434Z"),
        n: 7,
        s: { a: null, b: [] },
      },
      types: {
        none: "STRING",
        empty: "ARRAY<INT64>",
        day: "DATE",
        price: "BIGNUMERIC",
        doc: "JSON",
        span: "RANGE<DATE>",
        civil: "DATETIME",
        n: { type: "FLOAT64" },
        s: "STRUCT<a INTEGER, b ARRAY<STRING>>",
      },
    },
  );
  assert.deepEqual(rows, [{
    none: null,
    empty: [],
    day: "2024-04-08",
    price: "12345678901234567890.123456789",
    doc: { a: [1, "x"] },
    span: { start: "2024-01-01", end: null },
    civil: "2024-04-08T20:58:24.434",
    n: 7,
    s: { a: null, b: [] },
  }]);
  const { params } = sentParameters(f.fake);
  const byName = Object.fromEntries(
    (params as { name: string; parameterType: unknown }[]).map((p) => [
      p.name,
      p,
    ]),
  );
  assert.deepEqual(byName.doc, {
    name: "doc",
    parameterType: { type: "JSON" },
    parameterValue: { value: '{"a":[1,"x"]}' },
  });
  assert.deepEqual(byName.span, {
    name: "span",
    parameterType: { type: "RANGE", rangeElementType: { type: "DATE" } },
    parameterValue: {
      rangeValue: { start: { value: "2024-01-01" }, end: { value: null } },
    },
  });
  assert.deepEqual(byName.s.parameterType, {
    type: "STRUCT",
    structTypes: [
      { name: "a", type: { type: "INT64" } },
      { name: "b", type: { type: "ARRAY", arrayType: { type: "STRING" } } },
    ],
  });
});

test("FLOAT64 parameters send NaN and ±Infinity as BigQuery spells them", async () => {
  await using f = await dwFixture();
  const { rows } = await f.dw.query("SELECT @a AS a, @b AS b, @c AS c", {
    params: { a: NaN, b: Infinity, c: -Infinity },
  });
  assert.deepEqual(rows, [{ a: NaN, b: Infinity, c: -Infinity }]);
  const { params } = sentParameters(f.fake);
  assert.deepEqual(
    (params as { parameterValue: { value: string } }[]).map((p) =>
      p.parameterValue.value
    ),
    ["NaN", "Infinity", "-Infinity"],
  );
});

test("a TIMESTAMP range parameter round-trips as Dates", async () => {
  await using f = await dwFixture();
  const start = new Date("2024-01-01T00:00:00.000Z");
  const { rows } = await f.dw.query("SELECT @r AS r", {
    params: { r: { start, end: null } },
    types: { r: "RANGE<TIMESTAMP>" },
  });
  assert.deepEqual(rows, [{ r: { start, end: null } }]);
});

test("a JSON parameter's string is JSON text and any other value is stringified, as in @google-cloud/bigquery", async () => {
  await using f = await dwFixture();
  const params = {
    text: '{"a":[1,"x"]}',
    object: { a: [1, "x"] },
    quoted: '"hello"',
    number: 5,
    array: [1, { b: true }],
    none: null,
    list: ['{"k":1}', "2"],
  };
  const { rows } = await f.dw.query(
    `SELECT ${Object.keys(params).map((k) => `@${k} AS ${k}`).join(", ")}`,
    {
      params,
      types: {
        text: "JSON",
        object: "JSON",
        quoted: "JSON",
        number: "JSON",
        array: "JSON",
        none: "JSON",
        list: "ARRAY<JSON>",
      },
    },
  );
  assert.deepEqual(rows, [{
    text: { a: [1, "x"] },
    object: { a: [1, "x"] },
    quoted: "hello",
    number: 5,
    array: [1, { b: true }],
    none: null,
    list: [{ k: 1 }, 2],
  }]);
  const sent = sentParameters(f.fake).params as {
    name: string;
    parameterValue: unknown;
  }[];
  assert.deepEqual(
    Object.fromEntries(sent.map((p) => [p.name, p.parameterValue])),
    {
      text: { value: '{"a":[1,"x"]}' },
      object: { value: '{"a":[1,"x"]}' },
      quoted: { value: '"hello"' },
      number: { value: "5" },
      array: { value: '[1,{"b":true}]' },
      none: { value: null },
      list: { arrayValues: [{ value: '{"k":1}' }, { value: "2" }] },
    },
  );
});
