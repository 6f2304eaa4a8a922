/**
 * TIMESTAMP cells in every form BigQuery writes (int64 microseconds, float
 * seconds, RFC 3339 text) decode to the exact instant, and anything else is
 * an error naming the column.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { compileRowsDecoder } from "../src/dw/decode.ts";
import { timestampFromMicros, timestampFromText } from "../src/dw/values.ts";
import type { FakeField } from "../src/testing/mod.ts";
import { dwFixture } from "./dw_fixture.ts";

test("TIMESTAMP int64 microseconds match BigQuery's reference vectors", () => {
  const vectors: [string, string][] = [
    ["1712609904434123", "2024-04-08T20:58:24.434Z"],
    ["-604800000000", "1969-12-25T00:00:00.000Z"],
    ["0", "1970-01-01T00:00:00.000Z"],
    ["999", "1970-01-01T00:00:00.000Z"], // floored to the millisecond
    ["-1", "1969-12-31T23:59:59.999Z"], // floored, not truncated
    ["253402300799999999", "9999-12-31T23:59:59.999Z"], // beyond 2^53 µs
    ["-62135596800000000", "0001-01-01T00:00:00.000Z"],
    ["-62135596799999999", "0001-01-01T00:00:00.000Z"],
  ];
  for (const [micros, iso] of vectors) {
    assert.equal(timestampFromMicros(micros).toISOString(), iso, micros);
  }
});

/** TIMESTAMP cells in the other forms BigQuery writes, and the instants they stand for. */
const TIMESTAMP_FORMS: [string, string][] = [
  // Float seconds: what BigQuery sends without formatOptions.useInt64Timestamp.
  ["1.712609904434123E9", "2024-04-08T20:58:24.434Z"],
  ["1.712609904E9", "2024-04-08T20:58:24.000Z"], // a whole second: +v is an integer
  ["1.7126099044341239E9", "2024-04-08T20:58:24.434Z"], // 17 digits
  ["1234567.5", "1970-01-15T06:56:07.500Z"],
  ["0.0", "1970-01-01T00:00:00.000Z"],
  ["-6.048E5", "1969-12-25T00:00:00.000Z"],
  ["-1.0E-6", "1969-12-31T23:59:59.999Z"], // floored, not truncated
  ["2.53402300799999999E11", "9999-12-31T23:59:59.999Z"],
  ["-6.21355968E10", "0001-01-01T00:00:00.000Z"],
  // Microseconds outside 2001–2255, which the fast path leaves to the full one.
  ["946684800000000", "2000-01-01T00:00:00.000Z"],
  ["9007199254740993", "2255-06-05T23:47:34.740Z"],
  ["-1", "1969-12-31T23:59:59.999Z"],
  // RFC 3339 text.
  ["2024-04-08T20:58:24.434123Z", "2024-04-08T20:58:24.434Z"],
  ["2024-04-08 20:58:24.434123 UTC", "2024-04-08T20:58:24.434Z"],
  ["2024-04-08 22:58:24.4+02:00", "2024-04-08T20:58:24.400Z"],
  ["2024-04-08T20:58:24", "2024-04-08T20:58:24.000Z"],
];

test("TIMESTAMPs as float seconds or RFC 3339 text decode exactly, in both decoders and through the client", async () => {
  for (const [text, iso] of TIMESTAMP_FORMS) {
    assert.equal(timestampFromText(text)?.toISOString(), iso, text);
  }
  const schema: FakeField[] = [
    { name: "at", type: "TIMESTAMP" },
    { name: "ats", type: "TIMESTAMP", mode: "REPEATED" },
    {
      name: "rec",
      type: "RECORD",
      fields: [{ name: "at", type: "TIMESTAMP" }],
    },
  ];
  const rows = TIMESTAMP_FORMS.map(([text]) => ({
    f: [{ v: text }, { v: [{ v: text }] }, { v: { f: [{ v: text }] } }],
  }));
  const expected = TIMESTAMP_FORMS.map(([, iso]) => {
    const at = new Date(iso);
    return { at, ats: [at], rec: { at } };
  });
  for (const codegen of [true, false]) {
    assert.deepEqual(compileRowsDecoder(schema, { codegen })(rows), expected);
  }
  await using f = await dwFixture();
  f.fake.bigquery.setResult("SELECT * FROM seconds", { schema, rows });
  assert.deepEqual((await f.dw.query("SELECT * FROM seconds")).rows, expected);
});

test("a TIMESTAMP in no form BigQuery writes is an error naming the column, not an Invalid Date", () => {
  const schema: FakeField[] = [
    {
      name: "rec",
      type: "RECORD",
      fields: [{ name: "at", type: "TIMESTAMP" }],
    },
    { name: "span", type: "RANGE", rangeElementType: { type: "TIMESTAMP" } },
  ];
  for (const bad of ["yesterday", "1.5E400", "", "2024-13-45T00:00:00Z"]) {
    for (const codegen of [true, false]) {
      const decode = compileRowsDecoder(schema, { codegen });
      assert.throws(
        () => decode([{ f: [{ v: { f: [{ v: bad }] } }, { v: null }] }]),
        {
          name: "BigQueryError",
          message:
            `Column "rec.at" holds a TIMESTAMP that is neither microseconds, seconds nor RFC 3339 text, ` +
            `or is beyond the range of a JavaScript Date: ${
              JSON.stringify(bad)
            }.`,
        },
      );
      if (bad === "") continue; // an empty RANGE bound is UNBOUNDED
      assert.throws(
        () => decode([{ f: [{ v: null }, { v: `[${bad}, UNBOUNDED)` }] }]),
        {
          name: "BigQueryError",
          message: /^Column "span" holds a TIMESTAMP that/,
        },
      );
    }
  }
});
