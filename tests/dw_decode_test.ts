/**
 * Decoding BigQuery rows: every type as DESIGN.md §2 maps it, through the
 * client and in both decoders (generated code and closures); cells that are
 * not what their type says; column names that could be mistaken for code.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileRowsDecoder } from "../src/dw/decode.ts";
import type { WireRow } from "../src/dw/types.ts";
import type { FakeField, FakeResult } from "../src/testing/mod.ts";
import { dwFixture } from "./dw_fixture.ts";

const bytes = (...b: number[]) => new Uint8Array(b);

/** One row of every type, a second row of NULLs, as BigQuery sends them. */
const EVERY_TYPE: FakeResult = {
  schema: [
    { name: "int", type: "INTEGER" },
    { name: "float", type: "FLOAT" },
    { name: "nan", type: "FLOAT" },
    { name: "inf", type: "FLOAT64" },
    { name: "ninf", type: "FLOAT" },
    { name: "numeric", type: "NUMERIC" },
    { name: "bignumeric", type: "BIGNUMERIC" },
    { name: "bool", type: "BOOLEAN" },
    { name: "string", type: "STRING" },
    { name: "bytes", type: "BYTES" },
    { name: "date", type: "DATE" },
    { name: "datetime", type: "DATETIME" },
    { name: "time", type: "TIME" },
    { name: "timestamp", type: "TIMESTAMP" },
    { name: "geography", type: "GEOGRAPHY" },
    { name: "interval", type: "INTERVAL" },
    { name: "json", type: "JSON" },
    {
      name: "record",
      type: "RECORD",
      fields: [
        { name: "x", type: "FLOAT" },
        {
          name: "inner",
          type: "RECORD",
          fields: [{ name: "at", type: "TIMESTAMP" }, {
            name: "doc",
            type: "JSON",
          }],
        },
      ],
    },
    { name: "ints", type: "INTEGER", mode: "REPEATED" },
    {
      name: "points",
      type: "RECORD",
      mode: "REPEATED",
      fields: [
        { name: "x", type: "INTEGER" },
        { name: "tags", type: "STRING", mode: "REPEATED" },
      ],
    },
    { name: "dates", type: "RANGE", rangeElementType: { type: "DATE" } },
    {
      name: "period",
      type: "RANGE",
      rangeElementType: { type: "TIMESTAMP" },
    },
  ] as FakeField[],
  rows: [
    {
      f: [
        { v: "-42" },
        { v: "3.25" },
        { v: "NaN" },
        { v: "Infinity" },
        { v: "-Infinity" },
        { v: "123456789012345678901234567.123456789" },
        { v: "1e-38" },
        { v: "true" },
        { v: "héllo, 世界" },
        { v: "AAEC/w==" },
        { v: "2024-04-08" },
        { v: "2024-04-08T20:58:24.434123" },
        { v: "20:58:24.434123" },
        { v: "1712609904434123" },
        { v: "POINT(-3.7 40.4)" },
        { v: "1-2 3 4:5:6.789" },
        { v: '{"a":[1,2,{"b":null}],"c":"d"}' },
        {
          v: {
            f: [{ v: "1.5" }, {
              v: { f: [{ v: "-604800000000" }, { v: "[1,2]" }] },
            }],
          },
        },
        { v: [{ v: "1" }, { v: "2" }, { v: "3" }] },
        {
          v: [
            { v: { f: [{ v: "1" }, { v: [{ v: "a" }, { v: "b" }] }] } },
            { v: { f: [{ v: "2" }, { v: [] }] } },
          ],
        },
        { v: "[2024-01-01, UNBOUNDED)" },
        { v: "[UNBOUNDED, 1712609904434123)" },
      ],
    },
    {
      f: [
        ...Array.from({ length: 17 }, () => ({ v: null })),
        { v: { f: [{ v: null }, { v: null }] } },
        { v: [] },
        { v: [] },
        { v: null },
        { v: null },
      ],
    },
  ],
};

const EXPECTED_ROWS = [
  {
    int: -42,
    float: 3.25,
    nan: NaN,
    inf: Infinity,
    ninf: -Infinity,
    numeric: "123456789012345678901234567.123456789",
    bignumeric: "1e-38",
    bool: true,
    string: "héllo, 世界",
    bytes: bytes(0, 1, 2, 255),
    date: "2024-04-08",
    datetime: "2024-04-08T20:58:24.434123",
    time: "20:58:24.434123",
    timestamp: new Date("2024-04-08T20:58:24.434Z"),
    geography: "POINT(-3.7 40.4)",
    interval: "1-2 3 4:5:6.789",
    json: { a: [1, 2, { b: null }], c: "d" },
    record: {
      x: 1.5,
      inner: { at: new Date("1969-12-25T00:00:00.000Z"), doc: [1, 2] },
    },
    ints: [1, 2, 3],
    points: [{ x: 1, tags: ["a", "b"] }, { x: 2, tags: [] }],
    dates: { start: "2024-01-01", end: null },
    period: { start: null, end: new Date("2024-04-08T20:58:24.434Z") },
  },
  {
    int: null,
    float: null,
    nan: null,
    inf: null,
    ninf: null,
    numeric: null,
    bignumeric: null,
    bool: null,
    string: null,
    bytes: null,
    date: null,
    datetime: null,
    time: null,
    timestamp: null,
    geography: null,
    interval: null,
    json: null,
    record: { x: null, inner: null },
    ints: [],
    points: [],
    dates: null,
    period: null,
  },
];

test("every BigQuery type decodes as DESIGN.md §2 says, through the client", async () => {
  await using f = await dwFixture();
  f.fake.bigquery.setResult("SELECT * FROM every_type", EVERY_TYPE);
  const { rows } = await f.dw.query("SELECT * FROM every_type");
  assert.deepEqual(rows, EXPECTED_ROWS);
  assert.ok(rows[0].bytes instanceof Uint8Array);
  assert.ok(rows[0].timestamp instanceof Date);
});

test("the closure decoder (for runtimes without code generation) decodes the same", () => {
  const wire = EVERY_TYPE.rows as WireRow[];
  const closures = compileRowsDecoder(EVERY_TYPE.schema, { codegen: false });
  const generated = compileRowsDecoder(EVERY_TYPE.schema, { codegen: true });
  assert.deepEqual(closures(wire), EXPECTED_ROWS);
  assert.deepEqual(generated(wire), EXPECTED_ROWS);
});

test("a JSON cell that is not JSON is an error naming the column, at the top or nested", () => {
  const schema = [
    { name: "doc", type: "JSON" },
    { name: "rec", type: "RECORD", fields: [{ name: "doc", type: "JSON" }] },
  ];
  const badTop = [{ f: [{ v: "{nope" }, { v: { f: [{ v: "1" }] } }] }];
  const badNested = [{ f: [{ v: "1" }, { v: { f: [{ v: "1, 2" }] } }] }];
  for (const codegen of [true, false]) {
    const decode = compileRowsDecoder(schema, { codegen });
    assert.throws(() => decode(badTop), {
      name: "BigQueryError",
      message: 'Column "doc" holds text that is not valid JSON: "{nope".',
    });
    assert.throws(() => decode(badNested), {
      name: "BigQueryError",
      message: 'Column "rec.doc" holds text that is not valid JSON: "1, 2".',
    });
  }
});

test("a JSON cell holding two values is an error naming the column, not two values", () => {
  const decode = compileRowsDecoder([{ name: "doc", type: "JSON" }], {
    codegen: true,
  });
  const wire = [{ f: [{ v: "1,2" }] }, { f: [{ v: "3" }] }];
  assert.throws(() => decode(wire), {
    message: 'Column "doc" holds text that is not valid JSON: "1,2".',
  });
});

test("a RANGE that is not [start, end) is an error naming the column", () => {
  const schema = [{
    name: "r",
    type: "RANGE",
    rangeElementType: { type: "DATE" },
  }];
  for (const codegen of [true, false]) {
    assert.throws(
      () => compileRowsDecoder(schema, { codegen })([{ f: [{ v: "2024" }] }]),
      {
        name: "BigQueryError",
        message: 'Column "r" holds a RANGE that is not "[start, end)": "2024".',
      },
    );
  }
});

test("a column named __proto__ is an own property and leaves the prototype alone", () => {
  const schema = [{ name: "__proto__", type: "STRING" }, {
    name: "n",
    type: "INTEGER",
  }];
  for (const codegen of [true, false]) {
    const [row] = compileRowsDecoder(schema, { codegen })([
      { f: [{ v: "x" }, { v: "1" }] },
    ]);
    assert.equal(Object.getPrototypeOf(row), Object.prototype);
    assert.deepEqual(Object.keys(row), ["__proto__", "n"]);
    assert.equal(Object.getOwnPropertyDescriptor(row, "__proto__")?.value, "x");
  }
});

test("a schema seen before reuses its decoder; another int64 mode gets its own", () => {
  const schema = [{ name: "n", type: "INTEGER" }];
  const first = compileRowsDecoder(schema);
  assert.equal(compileRowsDecoder([{ name: "n", type: "INTEGER" }]), first);
  const asString = compileRowsDecoder(schema, { int64: "string" });
  assert.notEqual(asString, first);
  assert.deepEqual(asString([{ f: [{ v: "1" }] }]), [{ n: "1" }]);
  assert.deepEqual(first([{ f: [{ v: "1" }] }]), [{ n: 1 }]);
});

test("column names are data, never code", () => {
  const name = '"); throw new Error("injected"); ("';
  const [row] = compileRowsDecoder([{ name, type: "INTEGER" }], {
    codegen: true,
  })([{ f: [{ v: "5" }] }]);
  assert.deepEqual(row, { [name]: 5 });
});
