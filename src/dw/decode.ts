/**
 * Turns BigQuery's wire rows (`{ f: [{ v: "…" }] }`, every scalar a string)
 * into plain JavaScript objects, with one decoder compiled per schema: the
 * type dispatch happens once per column, not once per cell.
 */
import { canGenerateCode, generateRowsDecoder } from "./decode_codegen.ts";
import type { TableFieldSchema, WireCell, WireRow } from "./types.ts";
import {
  bytesFromBase64,
  type Int64Mode,
  jsonParser,
  kindOf,
  rangeParser,
  timestampParser,
  unsafeIntegerThrower,
} from "./values.ts";

/**
 * A decoded row: column name → value. The mapping is DESIGN.md §2: INT64 →
 * number (see {@linkcode Int64Mode}), FLOAT64 → number, NUMERIC / BIGNUMERIC
 * → string, BOOL → boolean, TIMESTAMP → Date, BYTES → Uint8Array, JSON →
 * parsed value, RECORD → object, REPEATED → array, RANGE → `{ start, end }`,
 * DATE / DATETIME / TIME / GEOGRAPHY / INTERVAL / STRING → string, NULL → null.
 *
 * @example
 * ```ts ignore
 * const { rows } = await dw.query("SELECT 1 AS n, CURRENT_TIMESTAMP() AS at");
 * const row: Row = rows[0]; // { n: 1, at: Date }
 * ```
 */
export type Row = Record<string, unknown>;

/** Decodes a page of wire rows. */
export type RowsDecoder = (rows: readonly WireRow[]) => Row[];

/** Options of {@linkcode compileRowsDecoder}. */
export interface DecoderOptions {
  /** How INT64 values are returned, default `"number"`. */
  int64?: Int64Mode;
  /**
   * Build the decoder as generated code (an object literal per row, every
   * conversion inlined: the fastest shape for JavaScript engines). Default:
   * when the runtime allows it; Cloudflare Workers do not, and get closures.
   */
  codegen?: boolean;
}

/**
 * Compiles a decoder for pages of rows of `fields`: once per result, then
 * called for every page.
 *
 * @example
 * ```ts ignore
 * const decode = compileRowsDecoder([
 *   { name: "n", type: "INTEGER" },
 *   { name: "at", type: "TIMESTAMP" },
 * ]);
 * decode([{ f: [{ v: "1" }, { v: "1712609904434123" }] }]);
 * // [{ n: 1, at: 2024-04-08T20:58:24.434Z }]
 * ```
 */
export function compileRowsDecoder(
  fields: readonly TableFieldSchema[],
  options: DecoderOptions = {},
): RowsDecoder {
  const int64 = options.int64 ?? "number";
  const codegen = options.codegen ?? canGenerateCode();
  // The same schema again (a query run repeatedly) reuses the decoder the
  // engine has already optimized.
  const key = `${int64} ${codegen} ${JSON.stringify(fields)}`;
  let decoder = compiled.get(key);
  if (decoder) {
    compiled.delete(key); // re-inserted below: most recently used last
  } else if (codegen) {
    decoder = generateRowsDecoder(fields, int64) as RowsDecoder;
  } else {
    const decodeRow = closureRecord(fields, int64, "");
    decoder = (rows) => rows.map((row) => decodeRow(row));
  }
  compiled.set(key, decoder);
  if (compiled.size > CACHED_DECODERS) {
    compiled.delete(compiled.keys().next().value!);
  }
  return decoder;
}

/** How many decoders are kept for schemas seen before. */
const CACHED_DECODERS = 64;
const compiled = new Map<string, RowsDecoder>();

// --- closures (runtimes without code generation) --------------------------

/** Converts a non-null wire value; `undefined` stands for "keep it as is". */
type Convert = ((v: unknown) => unknown) | undefined;

function closureRecord(
  fields: readonly TableFieldSchema[],
  int64: Int64Mode,
  prefix: string,
): (row: WireRow) => Row {
  const names = fields.map((f) => f.name);
  const converters = fields.map((f) => closureField(f, int64, prefix + f.name));
  const n = names.length;
  const hasProtoKey = names.includes("__proto__");
  return (r) => {
    const f = r.f;
    const out: Row = {};
    for (let i = 0; i < n; i++) {
      const v = f[i].v;
      const convert = converters[i];
      const value = v === null || !convert ? v : convert(v);
      // `out.__proto__ = …` would set the prototype, not a column.
      if (hasProtoKey && names[i] === "__proto__") {
        Object.defineProperty(out, "__proto__", {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else out[names[i]] = value;
    }
    return out;
  };
}

function closureField(
  field: TableFieldSchema,
  int64: Int64Mode,
  path: string,
): Convert {
  const element = closureElement(field, int64, path);
  if (field.mode !== "REPEATED") return element;
  return (v) =>
    (v as WireCell[]).map(({ v: x }) =>
      x === null || !element ? x : element(x)
    );
}

function closureElement(
  field: TableFieldSchema,
  int64: Int64Mode,
  path: string,
): Convert {
  switch (kindOf(field)) {
    case "int64":
      return int64 === "number"
        ? safeInteger(path)
        : int64 === "bigint"
        ? (v) => BigInt(v as string)
        : undefined;
    case "float":
      return (v) => +(v as string); // also "NaN", "Infinity", "-Infinity"
    case "bool":
      return (v) => v === "true";
    case "timestamp":
      return timestampParser(path) as Convert;
    case "bytes":
      return bytesFromBase64 as Convert;
    case "json":
      return jsonParser(path) as Convert;
    case "range":
      return rangeParser(
        field.rangeElementType?.type ?? "STRING",
        path,
      ) as Convert;
    case "record":
      return closureRecord(field.fields ?? [], int64, `${path}.`) as Convert;
    case "string":
      return undefined;
  }
}

function safeInteger(path: string): Convert {
  const unsafe = unsafeIntegerThrower(path);
  return (v) => {
    const n = +(v as string);
    return Number.isSafeInteger(n) ? n : unsafe(v);
  };
}
