/**
 * Query parameters from JavaScript values: the type is inferred from the
 * value (or given), and every scalar is sent as a string, as the REST API
 * wants.
 */
import { BigQueryError } from "./errors.ts";
import { type ParamType, toParameterType } from "./param_types.ts";
import {
  describe,
  describeKind,
  encodeScalar,
  isPlainObject,
  mismatch,
  typeText,
} from "./param_values.ts";
import type {
  QueryParameter,
  QueryParameterType,
  QueryParameterValue,
} from "./types.ts";

/**
 * Query parameters: an object for named ones (`@name` in the SQL) or an
 * array for positional ones (`?`). Types follow the values: a number is
 * INT64 when it is an integer, else FLOAT64; bigint → INT64; string →
 * STRING; boolean → BOOL; Date → TIMESTAMP; Uint8Array → BYTES; an array →
 * ARRAY; a plain object → STRUCT. `null`, empty arrays and every other type
 * (DATE, NUMERIC, JSON, RANGE, …) need {@linkcode ParamTypes}. A JSON
 * parameter's string is JSON text (`'{"a":1}'`, `'"text"'`); any other value
 * is written with `JSON.stringify` (`{ a: 1 }`); `null` is SQL NULL.
 *
 * @example
 * ```ts ignore
 * await dw.query("SELECT * FROM t WHERE id IN UNNEST(@ids) AND day > @since", {
 *   params: { ids: [1, 2, 3], since: "2024-01-01" },
 *   types: { since: "DATE" },
 * });
 * await dw.query("SELECT ? + ?", { params: [1, 2] });
 * ```
 */
export type QueryParams = Record<string, unknown> | readonly unknown[];

/**
 * Explicit types of some parameters, by name (named parameters) or position
 * (positional ones); the others are inferred from their values.
 *
 * @example
 * ```ts ignore
 * const types: ParamTypes = { day: "DATE", price: "NUMERIC", tags: "ARRAY<STRING>" };
 * ```
 */
export type ParamTypes =
  | Record<string, ParamType>
  | readonly (ParamType | undefined)[];

/** What jobs.query needs: the mode and the parameters. */
export interface EncodedParams {
  parameterMode: "NAMED" | "POSITIONAL";
  queryParameters: QueryParameter[];
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Encodes `params` (with the explicit `types`) for jobs.query; `undefined`
 * when there are none. Throws a {@linkcode BigQueryError} (`invalid_input`)
 * that names the parameter when a value has no BigQuery type or does not
 * fit the type given.
 *
 * @example
 * ```ts ignore
 * encodeParams({ n: 1 });
 * // { parameterMode: "NAMED", queryParameters: [{ name: "n",
 * //   parameterType: { type: "INT64" }, parameterValue: { value: "1" } }] }
 * ```
 */
export function encodeParams(
  params: QueryParams | undefined,
  types?: ParamTypes,
): EncodedParams | undefined {
  if (params === undefined || params === null) return undefined;
  if (Array.isArray(params)) {
    const given = (types ?? []) as readonly (ParamType | undefined)[];
    if (!Array.isArray(types ?? [])) throw typesShape("an array");
    if (params.length === 0) return undefined;
    return {
      parameterMode: "POSITIONAL",
      queryParameters: params.map((value, i) =>
        encodeParam(value, given[i], `query parameter ${i + 1}`)
      ),
    };
  }
  if (!isPlainObject(params)) {
    throw new BigQueryError(
      "params must be an object (named parameters) or an array (positional ones).",
      { code: "invalid_input" },
    );
  }
  if (Array.isArray(types)) throw typesShape("an object");
  const given = (types ?? {}) as Record<string, ParamType>;
  for (const name of Object.keys(given)) {
    if (!(name in params)) {
      throw new BigQueryError(
        `types names "${name}", which is not in params.`,
        { code: "invalid_input" },
      );
    }
  }
  const entries = Object.entries(params);
  if (entries.length === 0) return undefined;
  return {
    parameterMode: "NAMED",
    queryParameters: entries.map(([name, value]) => {
      if (!PARAM_NAME.test(name)) {
        throw new BigQueryError(
          `Query parameter name "${name}" is not valid: use letters, digits and underscores, not starting with a digit.`,
          { code: "invalid_input" },
        );
      }
      return {
        name,
        ...encodeParam(value, given[name], `query parameter "${name}"`),
      };
    }),
  };
}

function typesShape(expected: string): BigQueryError {
  return new BigQueryError(
    `types must be ${expected}, like params.`,
    { code: "invalid_input" },
  );
}

function encodeParam(
  value: unknown,
  type: ParamType | undefined,
  where: string,
): QueryParameter {
  const parameterType = type === undefined
    ? inferType(value, where)
    : toParameterType(type, where);
  return {
    parameterType,
    parameterValue: encodeValue(value, parameterType, where),
  };
}

// --- inference -----------------------------------------------------------

/** The BigQuery type of a JavaScript value; see {@linkcode QueryParams}. */
export function inferType(value: unknown, where: string): QueryParameterType {
  if (value === null || value === undefined) {
    throw needsType(where, String(value), "STRING");
  }
  switch (typeof value) {
    case "number":
      if (!Number.isInteger(value)) return { type: "FLOAT64" };
      if (Number.isSafeInteger(value)) return { type: "INT64" };
      throw new BigQueryError(
        `The value of ${where} is ${value}, an integer beyond Number.MAX_SAFE_INTEGER that may already be rounded: ` +
          `pass it as a bigint or a string with its type, or give its type as "FLOAT64".`,
        { code: "invalid_input" },
      );
    case "bigint":
      return { type: "INT64" };
    case "string":
      return { type: "STRING" };
    case "boolean":
      return { type: "BOOL" };
  }
  if (value instanceof Date) return { type: "TIMESTAMP" };
  if (value instanceof Uint8Array) return { type: "BYTES" };
  if (Array.isArray(value)) {
    return { type: "ARRAY", arrayType: inferElementType(value, where) };
  }
  if (isPlainObject(value)) {
    return {
      type: "STRUCT",
      structTypes: Object.entries(value).map(([name, field]) => ({
        name,
        type: inferType(field, `${where}.${name}`),
      })),
    };
  }
  throw new BigQueryError(
    `The value of ${where} is ${describe(value)}, which has no BigQuery type.`,
    { code: "invalid_input" },
  );
}

/** One type for every element: integers and fractions together make FLOAT64. */
function inferElementType(
  values: readonly unknown[],
  where: string,
): QueryParameterType {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length === 0) {
    throw needsType(
      where,
      values.length ? "an array of nulls" : "an empty array",
      "ARRAY<INT64>",
    );
  }
  if (present.some(Array.isArray)) {
    throw new BigQueryError(
      `The value of ${where} is an array of arrays, which BigQuery does not have: use an array of objects (STRUCTs) holding arrays.`,
      { code: "invalid_input" },
    );
  }
  const kinds = new Set(present.map(describeKind));
  if (kinds.size > 1) {
    throw new BigQueryError(
      `The value of ${where} mixes ${
        [...kinds].join(" and ")
      } elements; a BigQuery array holds one type.`,
      { code: "invalid_input" },
    );
  }
  const first = present.find((v) => typeof v !== "number") ??
    present.find((v) => !Number.isInteger(v)) ?? present[0];
  return inferType(first, `${where}[${present.indexOf(first)}]`);
}

function needsType(where: string, what: string, example: string) {
  const top = /^query parameter ("([^"]+)"|(\d+))$/.exec(where);
  const hint = !top
    ? `the type of the whole parameter in types (e.g. "STRUCT<name ${example}>")`
    : top[2]
    ? `types: { ${top[2]}: "${example}" }`
    : `types: [${", ".repeat(Number(top[3]) - 1)}"${example}"]`;
  return new BigQueryError(
    `The value of ${where} is ${what}, so its type cannot be inferred: give it with ${hint}.`,
    { code: "invalid_input" },
  );
}

// --- encoding ------------------------------------------------------------

/** `value` as a `QueryParameterValue` of `type`. */
export function encodeValue(
  value: unknown,
  type: QueryParameterType,
  where: string,
): QueryParameterValue {
  if (value === null || value === undefined) return { value: null };
  switch (type.type) {
    case "ARRAY": {
      if (!Array.isArray(value)) throw mismatch(where, value, type);
      const element = type.arrayType!;
      return {
        arrayValues: value.map((v, i) =>
          encodeValue(v, element, `${where}[${i}]`)
        ),
      };
    }
    case "STRUCT":
      return { structValues: encodeStruct(value, type, where) };
    case "RANGE": {
      if (!isPlainObject(value)) throw mismatch(where, value, type);
      const bound = type.rangeElementType!;
      const { start, end } = value as { start?: unknown; end?: unknown };
      return {
        rangeValue: {
          start: encodeValue(start, bound, `${where}.start`),
          end: encodeValue(end, bound, `${where}.end`),
        },
      };
    }
    default:
      return { value: encodeScalar(value, type.type, where) };
  }
}

function encodeStruct(
  value: unknown,
  type: QueryParameterType,
  where: string,
): Record<string, QueryParameterValue> {
  if (!isPlainObject(value)) throw mismatch(where, value, type);
  const fields = type.structTypes ?? [];
  const known = new Set(fields.map((f) => f.name));
  for (const key of Object.keys(value)) {
    if (!known.has(key)) {
      throw new BigQueryError(
        `The value of ${where} has a field "${key}" that its type ${
          typeText(type)
        } does not.`,
        { code: "invalid_input" },
      );
    }
  }
  const out: Record<string, QueryParameterValue> = {};
  fields.forEach((field, i) => {
    const name = field.name ?? `_field_${i + 1}`;
    out[name] = encodeValue(
      (value as Record<string, unknown>)[name],
      field.type,
      `${where}.${name}`,
    );
  });
  return out;
}
