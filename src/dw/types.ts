/**
 * The parts of BigQuery's REST resources that the client reads and writes
 * (https://cloud.google.com/bigquery/docs/reference/rest/v2). Field names are
 * the API's.
 */

/**
 * A column of a result, as BigQuery describes it (`TableFieldSchema`).
 * `type` uses the REST names (`INTEGER`, `FLOAT`, `BOOLEAN`, `RECORD`, …);
 * the Standard SQL names (`INT64`, `FLOAT64`, `BOOL`, `STRUCT`) are accepted
 * too.
 *
 * @example
 * ```ts
 * import type { TableFieldSchema } from "@carto/auth";
 *
 * const point: TableFieldSchema = {
 *   name: "point",
 *   type: "RECORD",
 *   mode: "NULLABLE",
 *   fields: [{ name: "x", type: "FLOAT" }, { name: "y", type: "FLOAT" }],
 * };
 * ```
 */
export interface TableFieldSchema {
  /** The column name. */
  name: string;
  /** The type, e.g. `INTEGER`, `STRING`, `TIMESTAMP`, `RECORD`, `RANGE`. */
  type: string;
  /** `NULLABLE` (default), `REQUIRED` or `REPEATED` (an array). */
  mode?: "NULLABLE" | "REQUIRED" | "REPEATED" | string;
  /** The sub-columns of a `RECORD` / `STRUCT`. */
  fields?: TableFieldSchema[];
  /** The type of a `RANGE`'s bounds (`DATE`, `DATETIME` or `TIMESTAMP`). */
  rangeElementType?: { type: string };
  /** The column description, when the table has one. */
  description?: string;
}

/** One cell of a row on the wire: `{ v }`, `v` being a string, a record, an array of cells or null. */
export interface WireCell {
  v: unknown;
}

/** One row on the wire: `{ f: [{ v }, …] }`, cells in schema order. */
export interface WireRow {
  f: WireCell[];
}

/**
 * The type of a query parameter (`QueryParameterType`).
 *
 * @example
 * ```ts
 * import type { QueryParameterType } from "@carto/auth";
 *
 * const ids: QueryParameterType = { type: "ARRAY", arrayType: { type: "INT64" } };
 * ```
 */
export interface QueryParameterType {
  /** `INT64`, `FLOAT64`, `STRING`, `ARRAY`, `STRUCT`, `RANGE`, … */
  type: string;
  /** The element type of an `ARRAY`. */
  arrayType?: QueryParameterType;
  /** The fields of a `STRUCT`, in order. */
  structTypes?: { name?: string; type: QueryParameterType }[];
  /** The bound type of a `RANGE`. */
  rangeElementType?: QueryParameterType;
}

/**
 * The value of a query parameter (`QueryParameterValue`); scalars are
 * strings, as the REST API wants.
 *
 * @example
 * ```ts
 * import type { QueryParameterValue } from "@carto/auth";
 *
 * const ids: QueryParameterValue = { arrayValues: [{ value: "1" }, { value: "2" }] };
 * ```
 */
export interface QueryParameterValue {
  /** A scalar, as a string; `null` for NULL. */
  value?: string | null;
  /** The elements of an `ARRAY`. */
  arrayValues?: QueryParameterValue[];
  /** The fields of a `STRUCT`, by name. */
  structValues?: Record<string, QueryParameterValue>;
  /** The bounds of a `RANGE`. */
  rangeValue?: { start?: QueryParameterValue; end?: QueryParameterValue };
}

/**
 * A query parameter as sent to BigQuery (`QueryParameter`); `name` is absent
 * for positional (`?`) parameters.
 *
 * @example
 * ```ts
 * import type { QueryParameter } from "@carto/auth";
 *
 * const n: QueryParameter = {
 *   name: "n",
 *   parameterType: { type: "INT64" },
 *   parameterValue: { value: "1" },
 * };
 * ```
 */
export interface QueryParameter {
  /** The name used as `@name` in the SQL; absent for `?` parameters. */
  name?: string;
  /** Its type. */
  parameterType: QueryParameterType;
  /** Its value. */
  parameterValue: QueryParameterValue;
}

/** Where a job runs (`JobReference`). */
export interface JobReference {
  projectId: string;
  jobId?: string;
  location?: string;
}

/**
 * One failure as BigQuery reports it (`ErrorProto`), in
 * {@linkcode BigQueryError.errors}.
 *
 * @example
 * ```ts
 * import type { ErrorProto } from "@carto/auth";
 *
 * const e: ErrorProto = { reason: "invalidQuery", location: "q", message: "Syntax error: … at [1:8]" };
 * ```
 */
export interface ErrorProto {
  /** A short code: `invalidQuery`, `notFound`, `accessDenied`, `rateLimitExceeded`, … */
  reason?: string;
  /** Where the error is, when BigQuery says (a parameter name, `query`, …). */
  location?: string;
  /** What went wrong, in words. */
  message?: string;
  /** Google-internal details; not shown. */
  debugInfo?: string;
}

/** The answer of jobs.query and jobs.getQueryResults (the fields used here). */
export interface QueryResponse {
  schema?: { fields?: TableFieldSchema[] };
  jobReference?: JobReference;
  queryId?: string;
  location?: string;
  totalRows?: string;
  pageToken?: string;
  rows?: WireRow[];
  totalBytesProcessed?: string;
  jobComplete?: boolean;
  cacheHit?: boolean;
  numDmlAffectedRows?: string;
  errors?: ErrorProto[];
}
