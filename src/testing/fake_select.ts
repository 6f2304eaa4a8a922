/**
 * The SQL the fake BigQuery and the fake SQL API run: a list of
 * `<literal or @param or ?> AS name` after SELECT, enough for demos and tests.
 * Query parameters come back as columns in the wire format BigQuery answers
 * with (TIMESTAMPs as int64 microseconds, RANGEs as `[start, end)`).
 *
 * @module
 */
import type {
  QueryParameter,
  QueryParameterType,
  QueryParameterValue,
} from "../dw/types.ts";
import type {
  Evaluated,
  FakeField,
  FakeResult,
} from "./fake_bigquery_types.ts";

/**
 * A canned result's rows as values, the form {@linkcode evaluateSelect} gives.
 *
 * @example
 * ```ts ignore
 * toEvaluated({ schema, rows: [{ f: [{ v: "1" }] }] }); // { schema, values: [["1"]] }
 * ```
 */
export function toEvaluated(result: FakeResult): Evaluated {
  return {
    schema: result.schema,
    values: result.rows.map((row) =>
      ((row as { f: { v: unknown }[] }).f ?? []).map((cell) => cell.v)
    ),
  };
}

/**
 * Values in BigQuery's wire format (`rows` of `{ f: [{ v }] }`).
 *
 * @example
 * ```ts ignore
 * toWire({ schema, values: [["1"]] }); // { schema, rows: [{ f: [{ v: "1" }] }] }
 * ```
 */
export function toWire(result: Evaluated): FakeResult {
  return {
    schema: result.schema,
    rows: result.values.map((r) => ({ f: r.map((v) => ({ v })) })),
  };
}

const SELECT = /^\s*select\s+(.+?)\s*;?\s*$/is;
const ITEM = /^(.+?)\s+as\s+([A-Za-z_][A-Za-z0-9_]*)$/is;

/**
 * Runs `SELECT 1 AS n, 'x' AS s, @p AS p, ? AS q`: enough SQL for demos and
 * tests. Anything else is an error in BigQuery's words.
 *
 * @example
 * ```ts ignore
 * evaluateSelect("SELECT 1 AS n", []);
 * // { schema: [{ name: "n", type: "INTEGER", mode: "NULLABLE" }], values: [["1"]] }
 * ```
 */
export function evaluateSelect(
  sql: string,
  params: QueryParameter[],
): Evaluated | { error: string } {
  const list = SELECT.exec(sql)?.[1];
  if (!list) return { error: `Syntax error: Unexpected keyword at [1:1]` };
  const schema: FakeField[] = [];
  const values: unknown[] = [];
  const positional = params.filter((p) => p.name === undefined);
  for (const item of splitTopLevel(list)) {
    const m = ITEM.exec(item.trim());
    if (!m) {
      return {
        error:
          `Syntax error: expected "<expression> AS <name>" in "${item.trim()}"`,
      };
    }
    const [, expr, name] = m;
    const literal = evaluateLiteral(expr.trim(), params, positional);
    if ("error" in literal) return literal;
    schema.push({ ...literal.field, name });
    values.push(literal.value);
  }
  return { schema, values: [values] };
}

type Literal = { field: Omit<FakeField, "name">; value: unknown } | {
  error: string;
};

function evaluateLiteral(
  expr: string,
  params: QueryParameter[],
  positional: QueryParameter[],
): Literal {
  const scalar = (type: string, value: string | null): Literal => ({
    field: { type, mode: "NULLABLE" },
    value,
  });
  if (/^-?\d+$/.test(expr)) return scalar("INTEGER", expr);
  if (/^-?\d*\.\d+(e-?\d+)?$/i.test(expr)) return scalar("FLOAT", expr);
  if (/^'.*'$/s.test(expr)) return scalar("STRING", expr.slice(1, -1));
  if (/^(true|false)$/i.test(expr)) {
    return scalar("BOOLEAN", expr.toLowerCase());
  }
  if (/^null$/i.test(expr)) return scalar("INTEGER", null);
  if (expr === "?") {
    const p = positional.shift();
    if (!p) return { error: "Query has more ? than query parameters at [1:8]" };
    return parameterLiteral(p);
  }
  const param = /^@([A-Za-z_][A-Za-z0-9_]*)$/.exec(expr)?.[1];
  if (param) {
    const p = params.find((q) => q.name === param);
    if (!p) return { error: `Query parameter '${param}' not found at [1:8]` };
    return parameterLiteral(p);
  }
  return { error: `Unrecognized name: ${expr} at [1:8]` };
}

/** A query parameter echoed as a column, in the wire format BigQuery answers with. */
function parameterLiteral(p: QueryParameter): Literal {
  try {
    return {
      field: fieldOf(p.parameterType),
      value: wireValue(p.parameterType, p.parameterValue),
    };
  } catch (e) {
    return {
      error: `Invalid query parameter ${p.name ?? "?"}: ${
        (e as Error).message
      }`,
    };
  }
}

const REST_TYPE_NAMES: Record<string, string> = {
  INT64: "INTEGER",
  FLOAT64: "FLOAT",
  BOOL: "BOOLEAN",
  STRUCT: "RECORD",
};

function fieldOf(type: QueryParameterType): Omit<FakeField, "name"> {
  if (type.type === "ARRAY") {
    if (!type.arrayType) throw new Error("ARRAY without arrayType");
    return { ...fieldOf(type.arrayType), mode: "REPEATED" };
  }
  const field: Omit<FakeField, "name"> = {
    type: REST_TYPE_NAMES[type.type] ?? type.type,
    mode: "NULLABLE",
  };
  if (type.type === "STRUCT") {
    field.fields = (type.structTypes ?? []).map((s, i) => ({
      name: s.name ?? `_field_${i + 1}`,
      ...fieldOf(s.type),
    }));
  }
  if (type.type === "RANGE") {
    field.rangeElementType = { type: type.rangeElementType?.type ?? "DATE" };
  }
  return field;
}

function wireValue(
  type: QueryParameterType,
  value: QueryParameterValue | undefined,
): unknown {
  if (type.type === "ARRAY") {
    // BigQuery returns a NULL array as an empty one.
    return (value?.arrayValues ?? []).map((v) => ({
      v: wireValue(type.arrayType!, v),
    }));
  }
  if (type.type === "STRUCT") {
    if (!value?.structValues) return null;
    return {
      f: (type.structTypes ?? []).map((s, i) => ({
        v: wireValue(s.type, value.structValues![s.name ?? `_field_${i + 1}`]),
      })),
    };
  }
  if (type.type === "RANGE") {
    if (!value?.rangeValue) return null;
    const bound = (b?: QueryParameterValue) =>
      b?.value == null
        ? "UNBOUNDED"
        : wireScalar(type.rangeElementType!.type, b.value);
    return `[${bound(value.rangeValue.start)}, ${bound(value.rangeValue.end)})`;
  }
  const v = value?.value;
  return v === undefined || v === null ? null : wireScalar(type.type, v);
}

/** Scalars come back as sent, except TIMESTAMPs: int64 microseconds. */
function wireScalar(type: string, value: string): string {
  if (type !== "TIMESTAMP") return value;
  const m =
    /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d:?\d\d| UTC)?$/
      .exec(value);
  if (!m) throw new Error(`not a timestamp: ${value}`);
  const zone = !m[4] || m[4] === "Z" || m[4] === " UTC" ? "Z" : m[4];
  const ms = Date.parse(`${m[1]}T${m[2]}${zone}`);
  if (isNaN(ms)) throw new Error(`not a timestamp: ${value}`);
  const micros = BigInt(ms) * 1000n +
    BigInt((m[3] ?? "").padEnd(6, "0"));
  return String(micros);
}

function splitTopLevel(list: string): string[] {
  const items: string[] = [];
  let depth = 0, quote = false, start = 0;
  for (let i = 0; i < list.length; i++) {
    const ch = list[i];
    if (ch === "'") quote = !quote;
    else if (!quote && ch === "(") depth++;
    else if (!quote && ch === ")") depth--;
    else if (!quote && depth === 0 && ch === ",") {
      items.push(list.slice(start, i));
      start = i + 1;
    }
  }
  items.push(list.slice(start));
  return items;
}
