/**
 * Conversions of single BigQuery wire values (strings) to JavaScript values,
 * shared by both decoders (generated code and closures).
 */
import { BigQueryError } from "./errors.ts";
import type { TableFieldSchema } from "./types.ts";

/**
 * How INT64 values are returned: `"number"` (default; a value beyond
 * ±(2^53 − 1) throws a {@linkcode BigQueryError} naming the column instead of
 * being rounded), `"bigint"`, or `"string"` (exact, as BigQuery sent it).
 *
 * @example
 * ```ts ignore
 * const { rows } = await dw.query("SELECT 9007199254740993 AS big", { int64: "bigint" });
 * rows[0].big; // 9007199254740993n
 * ```
 */
export type Int64Mode = "number" | "bigint" | "string";

/** How the decoders treat a column's values; everything else stays a string. */
export type ValueKind =
  | "int64"
  | "float"
  | "bool"
  | "timestamp"
  | "bytes"
  | "json"
  | "range"
  | "record"
  | "string";

/** The {@linkcode ValueKind} of one element of `field` (REPEATED is handled apart). */
export function kindOf(field: TableFieldSchema): ValueKind {
  switch (field.type.toUpperCase()) {
    case "INTEGER":
    case "INT64":
      return "int64";
    case "FLOAT":
    case "FLOAT64":
      return "float";
    case "BOOLEAN":
    case "BOOL":
      return "bool";
    case "TIMESTAMP":
      return "timestamp";
    case "BYTES":
      return "bytes";
    case "JSON":
      return "json";
    case "RANGE":
      return "range";
    case "RECORD":
    case "STRUCT":
      return "record";
    default:
      // STRING, NUMERIC, BIGNUMERIC (exact decimals), DATE, DATETIME, TIME,
      // GEOGRAPHY (WKT), INTERVAL, and types newer than this code.
      return "string";
  }
}

/** The error for an INT64 that a JavaScript number would round. */
export function unsafeInteger(path: string, v: unknown): BigQueryError {
  return new BigQueryError(
    `Column "${path}" holds ${v}, which is beyond Number.MAX_SAFE_INTEGER and ` +
      `would be rounded as a JavaScript number. Pass int64: "bigint" or int64: "string" to read it exactly.`,
    { code: "invalid_input" },
  );
}

/** A thrower bound to a column, for decoders: `(v) => never`. */
export function unsafeIntegerThrower(path: string): (v: unknown) => never {
  return (v) => {
    throw unsafeInteger(path, v);
  };
}

/** JSON text → value, for the column at `path`; invalid text throws naming it. */
export function jsonParser(path: string): (v: string) => unknown {
  return (v) => {
    try {
      return JSON.parse(v);
    } catch {
      throw new BigQueryError(
        `Column "${path}" holds text that is not valid JSON: ${
          JSON.stringify(String(v).slice(0, 100))
        }.`,
        { code: "bad_response" },
      );
    }
  };
}

/**
 * A TIMESTAMP sent as int64 microseconds since the epoch (what
 * `formatOptions.useInt64Timestamp` asks for) → Date, floored to the
 * millisecond. Counts beyond 2^53 µs (after the year 2255) are divided
 * exactly with BigInt.
 *
 * @example
 * ```ts ignore
 * timestampFromMicros("1712609904434123").toISOString(); // "2024-04-08T20:58:24.434Z"
 * timestampFromMicros("-604800000000").toISOString();    // "1969-12-25T00:00:00.000Z"
 * ```
 */
export function timestampFromMicros(v: string): Date {
  const n = +v;
  // For |n| < 2^53, n / 1000 is within half an ulp (< 0.001) of the exact
  // quotient, whose distance to the next integer is at least 0.001: the
  // floor is exact.
  if (Number.isSafeInteger(n)) return new Date(Math.floor(n / 1000));
  return new Date(Number(floorDiv(BigInt(v), 1000n)));
}

/** Float seconds, as BigQuery sends TIMESTAMPs without the int64 option: `1.712609904434123E9`. */
const FLOAT_SECONDS = /^(-?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
/** RFC 3339 text, as in RANGE bounds and other APIs: `2024-04-08T20:58:24.434123Z`, `… UTC`, `…+02:00`. */
const RFC3339 =
  /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d+))?(?:(Z| UTC)|([+-]\d\d)(?::?(\d\d))?)?$/i;

/**
 * A TIMESTAMP in any form BigQuery writes it → Date, floored to the
 * millisecond: int64 microseconds, float seconds (`1.712609904434123E9`,
 * decoded from its digits, not through a float) or RFC 3339 text;
 * `undefined` for anything else.
 *
 * @example
 * ```ts ignore
 * timestampFromText("1.712609904434123E9")?.toISOString(); // "2024-04-08T20:58:24.434Z"
 * ```
 */
export function timestampFromText(v: string): Date | undefined {
  if (/^-?\d+$/.test(v)) return timestampFromMicros(v);
  const float = FLOAT_SECONDS.exec(v);
  if (float) {
    const [, sign, whole, fraction = "", exponent = "0"] = float;
    // The digits as an integer count of 10^scale microseconds.
    const scale = Number(exponent) - fraction.length + 6;
    if (Math.abs(scale) > 40) return undefined; // far beyond any TIMESTAMP
    let micros = BigInt(sign + whole + fraction);
    micros = scale >= 0
      ? micros * 10n ** BigInt(scale)
      : floorDiv(micros, 10n ** BigInt(-scale));
    return new Date(Number(floorDiv(micros, 1000n)));
  }
  const text = RFC3339.exec(v);
  if (text) {
    const [, day, time, fraction = "", utc, hours, minutes = "00"] = text;
    const zone = utc || !hours ? "Z" : `${hours}:${minutes}`;
    const ms = fraction.padEnd(3, "0").slice(0, 3);
    const date = new Date(`${day}T${time}.${ms}${zone}`);
    return isNaN(date.getTime()) ? undefined : date;
  }
  return undefined;
}

/**
 * Whether TIMESTAMP text `v`, whose number is `x`, is int64 microseconds of
 * 2001-09-09 to 2255-03-14: 16 characters that make a 16-digit number are
 * 16 digits (a "." or an exponent would need more), and such counts are safe
 * integers. The generated decoder inlines this test; other values take
 * {@linkcode timestampParser}'s full path.
 */
export function isModernMicros(v: string, x: number): boolean {
  return x >= 1e15 && x < 9e15 && v.length === 16;
}

/** {@linkcode timestampFromText} for the column at `path`: a value it cannot read throws naming the column. */
export function timestampParser(path: string): (v: string) => Date {
  return (v) => {
    const x = +v;
    if (isModernMicros(v, x)) return new Date(Math.floor(x / 1000));
    const date = timestampFromText(v);
    if (date && !isNaN(date.getTime())) return date;
    throw new BigQueryError(
      `Column "${path}" holds a TIMESTAMP that is neither microseconds, seconds nor RFC 3339 text, ` +
        `or is beyond the range of a JavaScript Date: ${
          JSON.stringify(String(v).slice(0, 100))
        }.`,
      { code: "bad_response" },
    );
  };
}

/** `a / b` rounded towards −∞ (BigInt division truncates towards zero). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}

type FromBase64 = (s: string) => Uint8Array;
const nativeFromBase64 =
  (Uint8Array as unknown as { fromBase64?: FromBase64 }).fromBase64;

/** BYTES (base64) → Uint8Array. */
export function bytesFromBase64(v: string): Uint8Array {
  if (nativeFromBase64) return nativeFromBase64(v);
  const binary = atob(v);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * A RANGE as decoded: its bounds, null when unbounded. TIMESTAMP bounds are
 * Dates; DATE and DATETIME bounds are strings.
 *
 * @example
 * ```ts
 * import type { RangeValue } from "@carto/auth";
 *
 * const r: RangeValue<string> = { start: "2024-01-01", end: null }; // [2024-01-01, UNBOUNDED)
 * ```
 */
export interface RangeValue<T = unknown> {
  /** The first value in the range, or null when unbounded. */
  start: T | null;
  /** The first value after the range, or null when unbounded. */
  end: T | null;
}

/**
 * RANGE `"[start, end)"` → `{ start, end }` for the column at `path`:
 * `UNBOUNDED` bounds are null; TIMESTAMP bounds become Dates, DATE and
 * DATETIME bounds stay strings.
 */
export function rangeParser(
  elementType: string,
  path: string,
): (v: string) => RangeValue {
  const bound = elementType.toUpperCase() === "TIMESTAMP"
    ? timestampParser(path)
    : undefined;
  return (text) => {
    const comma = text.indexOf(", ");
    if (comma < 0 || !/^[[(]/.test(text) || !/[\])]$/.test(text)) {
      throw new BigQueryError(
        `Column "${path}" holds a RANGE that is not "[start, end)": ${
          JSON.stringify(text.slice(0, 100))
        }.`,
        { code: "bad_response" },
      );
    }
    return {
      start: rangeBound(text.slice(1, comma).trim(), bound),
      end: rangeBound(text.slice(comma + 2, -1).trim(), bound),
    };
  };
}

function rangeBound(
  text: string,
  convert: ((v: string) => unknown) | undefined,
): unknown {
  if (text === "UNBOUNDED" || text === "NULL" || text === "") return null;
  return convert ? convert(text) : text;
}
