/**
 * INT64 cells: numbers while they are safe, an error naming the column when
 * they are not, or exact bigints or strings with the `int64` option.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BigQueryError } from "../mod.ts";
import { compileRowsDecoder } from "../src/dw/decode.ts";
import { dwFixture } from "./dw_fixture.ts";

test("an INT64 beyond 2^53 throws naming the column under int64: number", async () => {
  await using f = await dwFixture();
  const error = await f.dw.query("SELECT 1 AS ok, 9007199254740993 AS big")
    .then(() => undefined, (e) => e);
  assert.ok(error instanceof BigQueryError);
  assert.equal(error.code, "invalid_input");
  assert.equal(
    error.message,
    'Column "big" holds 9007199254740993, which is beyond Number.MAX_SAFE_INTEGER and ' +
      'would be rounded as a JavaScript number. Pass int64: "bigint" or int64: "string" to read it exactly.',
  );
});

test("the unsafe INT64 error names nested columns by path, in both decoders", () => {
  const schema = [{
    name: "rec",
    type: "RECORD",
    fields: [{ name: "ids", type: "INTEGER", mode: "REPEATED" }],
  }];
  const wire = [{
    f: [{ v: { f: [{ v: [{ v: "1" }, { v: "-9007199254740993" }] }] } }],
  }];
  for (const codegen of [true, false]) {
    const decode = compileRowsDecoder(schema, { codegen });
    assert.throws(() => decode(wire), {
      name: "BigQueryError",
      message: /^Column "rec\.ids" holds -9007199254740993, which is beyond/,
    });
  }
});

test('int64: "bigint" and "string" read big integers exactly', async () => {
  await using f = await dwFixture();
  const sql = "SELECT 9007199254740993 AS big, -5 AS small";
  const asBigint = await f.dw.query(sql, { int64: "bigint" });
  assert.deepEqual(asBigint.rows, [{ big: 9007199254740993n, small: -5n }]);
  const asString = await f.dw.query(sql, { int64: "string" });
  assert.deepEqual(asString.rows, [{ big: "9007199254740993", small: "-5" }]);
});

test("the client's int64 option is the default of its queries", async () => {
  await using f = await dwFixture({ int64: "string" });
  const { rows } = await f.dw.query("SELECT 7 AS n");
  assert.deepEqual(rows, [{ n: "7" }]);
  const { rows: numbers } = await f.dw.query("SELECT 7 AS n", {
    int64: "number",
  });
  assert.deepEqual(numbers, [{ n: 7 }]);
});
