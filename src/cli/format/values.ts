/**
 * Query values as text, exactly: JSON that keeps 64-bit integers (bigint)
 * digit for digit, and the CSV/table text of each value.
 */

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * JSON for a decoded query value: bigint as a bare integer, `Date` as an ISO
 * string, `Uint8Array` as base64, NaN and ±Infinity as the strings BigQuery uses.
 */
export function toJson(value: unknown): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "number":
      return Number.isFinite(value)
        ? JSON.stringify(value)
        : JSON.stringify(String(value));
    case "string":
    case "boolean":
      return JSON.stringify(value);
  }
  if (value instanceof Date) {
    return Number.isNaN(value.getTime())
      ? "null"
      : JSON.stringify(value.toISOString());
  }
  if (value instanceof Uint8Array) return JSON.stringify(base64(value));
  if (Array.isArray(value)) return `[${value.map(toJson).join(",")}]`;
  if (typeof value === "object") {
    const fields = Object.entries(value as Record<string, unknown>).map((
      [k, v],
    ) => `${JSON.stringify(k)}:${toJson(v)}`);
    return `{${fields.join(",")}}`;
  }
  return "null";
}

/** The text of a non-null value in a CSV cell or a table: scalars as is, the rest as JSON. */
export function toText(value: unknown): string {
  switch (typeof value) {
    case "string":
      return value;
    case "number":
    case "bigint":
    case "boolean":
      return String(value);
  }
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? "" : value.toISOString();
  }
  if (value instanceof Uint8Array) return base64(value);
  return toJson(value);
}

/** True for values a table aligns to the right. */
export function isNumeric(value: unknown): boolean {
  return typeof value === "number" || typeof value === "bigint";
}
