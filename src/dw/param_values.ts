/**
 * Scalar query parameters as the strings the REST API wants, and how values
 * and types are named in the errors about them.
 */
import { BigQueryError } from "./errors.ts";
import type { QueryParameterType } from "./types.ts";

/** A scalar as the string the REST API wants. */
export function encodeScalar(
  value: unknown,
  type: string,
  where: string,
): string {
  const fail = () => mismatch(where, value, { type });
  switch (type) {
    case "INT64":
      if (typeof value === "number" && Number.isSafeInteger(value)) {
        return String(value);
      }
      if (typeof value === "bigint") {
        if (value >= -(2n ** 63n) && value < 2n ** 63n) return String(value);
        throw new BigQueryError(
          `The value of ${where} is ${value}, beyond INT64: give its type as "NUMERIC" or "BIGNUMERIC".`,
          { code: "invalid_input" },
        );
      }
      if (typeof value === "string" && /^-?\d+$/.test(value)) return value;
      throw fail();
    case "FLOAT64":
      // String() gives "NaN", "Infinity" and "-Infinity", as BigQuery writes them.
      if (typeof value === "number") return String(value);
      if (typeof value === "string" && value.trim() && !isNaN(+value)) {
        return value;
      }
      throw fail();
    case "NUMERIC":
    case "BIGNUMERIC":
      if (typeof value === "number" && Number.isFinite(value)) {
        return String(value);
      }
      if (typeof value === "bigint") return String(value);
      if (typeof value === "string") return value;
      throw fail();
    case "BOOL":
      if (typeof value === "boolean") return String(value);
      throw fail();
    case "BYTES":
      if (value instanceof Uint8Array) return bytesToBase64(value);
      if (typeof value === "string") return value; // already base64
      throw fail();
    case "TIMESTAMP":
      if (value instanceof Date) return isoOf(value, where);
      if (typeof value === "string") return value;
      throw fail();
    case "DATE":
      if (value instanceof Date) return isoOf(value, where).slice(0, 10);
      if (typeof value === "string") return value;
      throw fail();
    case "DATETIME":
      // A Date is an instant: its civil time in UTC.
      if (value instanceof Date) return isoOf(value, where).slice(0, -1);
      if (typeof value === "string") return value;
      throw fail();
    case "JSON":
      return jsonText(value, where);
    default:
      // STRING, TIME, GEOGRAPHY, INTERVAL: text.
      if (typeof value === "string") return value;
      throw fail();
  }
}

/**
 * The text of a JSON parameter. A string is taken as JSON text, as
 * `@google-cloud/bigquery` does (and as text read from a file or a flag is):
 * it must parse. Any other value is written with `JSON.stringify`.
 */
function jsonText(value: unknown, where: string): string {
  if (typeof value === "string") {
    try {
      JSON.parse(value);
      return value;
    } catch {
      throw new BigQueryError(
        `The value of ${where} is ${
          describe(value)
        }, which is not JSON text: a string given for a JSON parameter is sent as JSON text. ` +
          `For a JSON string, pass JSON.stringify(text).`,
        { code: "invalid_input" },
      );
    }
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new BigQueryError(
      `The value of ${where} cannot be written as JSON: ${
        (cause as Error).message
      }.`,
      { code: "invalid_input" },
    );
  }
  if (text === undefined) throw mismatch(where, value, { type: "JSON" });
  return text;
}

function isoOf(date: Date, where: string): string {
  if (isNaN(date.getTime())) {
    throw new BigQueryError(`The value of ${where} is an invalid Date.`, {
      code: "invalid_input",
    });
  }
  return date.toISOString();
}

/** The error for a value that does not fit its type. */
export function mismatch(
  where: string,
  value: unknown,
  type: QueryParameterType,
): BigQueryError {
  return new BigQueryError(
    `The value of ${where} is ${describe(value)}, which does not fit its type ${
      typeText(type)
    }.`,
    { code: "invalid_input" },
  );
}

/** `ARRAY<STRUCT<a INT64>>` from a `QueryParameterType`. */
export function typeText(type: QueryParameterType): string {
  if (type.type === "ARRAY" && type.arrayType) {
    return `ARRAY<${typeText(type.arrayType)}>`;
  }
  if (type.type === "RANGE" && type.rangeElementType) {
    return `RANGE<${typeText(type.rangeElementType)}>`;
  }
  if (type.type === "STRUCT") {
    const fields = (type.structTypes ?? []).map((f) =>
      f.name ? `${f.name} ${typeText(f.type)}` : typeText(f.type)
    );
    return `STRUCT<${fields.join(", ")}>`;
  }
  return type.type;
}

/** The kind of a value, for errors about arrays that mix kinds. */
export function describeKind(value: unknown): string {
  if (value instanceof Date) return "Date";
  if (value instanceof Uint8Array) return "Uint8Array";
  if (isPlainObject(value)) return "object";
  return typeof value === "bigint" ? "bigint" : typeof value;
}

/** A value in words, for error messages (long strings clipped). */
export function describe(value: unknown): string {
  if (typeof value === "string") {
    return `the string ${
      JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
    }`;
  }
  if (typeof value === "number" || typeof value === "boolean") {
    return `the ${typeof value} ${value}`;
  }
  if (typeof value === "bigint") return `the bigint ${value}n`;
  if (value instanceof Date) return "a Date";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "function") return "a function";
  if (typeof value === "symbol") return "a symbol";
  const name = (value as object)?.constructor?.name;
  return name && name !== "Object" ? `a ${name}` : "an object";
}

/** Whether `value` is an object literal (or has a null prototype): a STRUCT. */
export function isPlainObject(
  value: unknown,
): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function bytesToBase64(bytes: Uint8Array): string {
  const native = (bytes as unknown as { toBase64?: () => string }).toBase64;
  if (native) return native.call(bytes);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
