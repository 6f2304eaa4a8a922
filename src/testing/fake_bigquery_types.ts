/**
 * The types of the fake BigQuery (`fake.bigquery` of the fake CARTO): canned
 * results and errors in BigQuery's wire format, and the jobs it ran.
 *
 * @module
 */
import type { QueryParameter } from "../dw/types.ts";

export type {
  QueryParameter,
  QueryParameterType,
  QueryParameterValue,
} from "../dw/types.ts";

/**
 * A BigQuery schema field, as in the REST API's `TableFieldSchema`.
 *
 * @example
 * ```ts
 * import type { FakeField } from "@carto/auth/testing";
 *
 * const tags: FakeField = { name: "tags", type: "STRING", mode: "REPEATED" };
 * ```
 */
export interface FakeField {
  /** The column name. */
  name: string;
  /** The REST type name: `INTEGER`, `FLOAT`, `STRING`, `TIMESTAMP`, `RECORD`, … */
  type: string;
  /** `NULLABLE` (default), `REQUIRED` or `REPEATED`. */
  mode?: "NULLABLE" | "REQUIRED" | "REPEATED";
  /** The sub-columns of a `RECORD`. */
  fields?: FakeField[];
  /** The bound type of a `RANGE`. */
  rangeElementType?: { type: string };
}

/**
 * A canned query result in BigQuery's wire format (`rows` are `{ f: [{ v }] }`).
 *
 * @example
 * ```ts
 * import type { FakeResult } from "@carto/auth/testing";
 *
 * const result: FakeResult = {
 *   schema: [{ name: "n", type: "INTEGER" }],
 *   rows: [{ f: [{ v: "1" }] }, { f: [{ v: "2" }] }],
 * };
 * ```
 */
export interface FakeResult {
  /** The columns. */
  schema: FakeField[];
  /** The rows, `{ f: [{ v }] }`, values as BigQuery sends them (strings, TIMESTAMPs as int64 µs). */
  rows: unknown[];
}

/**
 * How a canned result is served; see {@linkcode FakeBigQuery.setResult}.
 *
 * @example A job that runs for two polls, served in pages of 100 rows
 * ```ts ignore
 * fake.bigquery.setResult("SELECT * FROM t", result, { pendingPolls: 2, pageSize: 100 });
 * ```
 */
export interface FakeResultOptions {
  /**
   * Make the query a running job: jobs.query answers `jobComplete: false`,
   * and so do this many getQueryResults calls before the result is ready.
   */
  pendingPolls?: number;
  /** Rows per page when the client asks for more (BigQuery's own page limit). */
  pageSize?: number;
  /** Wait this long before answering jobs.query (to abort a query in flight). */
  delayMs?: number;
  /** `totalBytesProcessed` of the query and of its dry run, default 1024 per row. */
  totalBytesProcessed?: number;
  /** `cacheHit`, default false. */
  cacheHit?: boolean;
}

/**
 * A canned failure of a query; see {@linkcode FakeBigQuery.setError}.
 *
 * @example
 * ```ts ignore
 * fake.bigquery.setError("SELECT * FROM nope", {
 *   status: 404,
 *   reason: "notFound",
 *   message: "Not found: Table p:d.nope was not found in location US",
 * });
 * ```
 */
export interface FakeQueryError {
  /** HTTP status, default 400. */
  status?: number;
  /** BigQuery's reason, default `invalidQuery`. */
  reason?: string;
  /** The message, e.g. `Syntax error: Unexpected keyword FROM at [1:8]`. */
  message: string;
  /** The `location` of the error entry, default `q`. */
  location?: string;
}

/**
 * What the fake SQL engine computed for a query.
 *
 * @example
 * ```ts ignore
 * const result = fake.bigquery.evaluate("SELECT 1 AS n");
 * // { schema: [{ name: "n", type: "INTEGER", mode: "NULLABLE" }], values: [["1"]] }
 * ```
 */
export interface Evaluated {
  /** The columns. */
  schema: FakeField[];
  /** One array of JSON values per row, in schema order. */
  values: unknown[][];
}

/**
 * A job the fake BigQuery created.
 *
 * @example
 * ```ts ignore
 * const [job] = fake.bigquery.jobs.values();
 * console.log(job.id, job.state); // "job_…", "CANCELLED"
 * ```
 */
export interface FakeJob {
  /** The job id, `job_…`. */
  readonly id: string;
  /** The query text. */
  readonly sql: string;
  /** Where it ran, default `US`. */
  readonly location: string;
  /** The client's idempotency key. */
  readonly requestId?: string;
  /** The job labels sent. */
  readonly labels?: Record<string, string>;
  /** `RUNNING` while polls are pending, `DONE`, or `CANCELLED` after jobs.cancel. */
  state: "RUNNING" | "DONE" | "CANCELLED";
}

/**
 * The BigQuery part of the fake CARTO (`fake.bigquery`): canned results and
 * errors, and the jobs it ran.
 *
 * @example
 * ```ts ignore
 * fake.bigquery.setResult("SELECT * FROM t", { schema, rows }, { pendingPolls: 1 });
 * await dw.query("SELECT * FROM t");
 * console.log(fake.bigquery.jobs.size); // 1
 * ```
 */
export interface FakeBigQuery {
  /** Every job created, by id. */
  readonly jobs: ReadonlyMap<string, FakeJob>;
  /** Ids of the jobs that received jobs.cancel, in order. */
  readonly cancelled: readonly string[];
  /** Answers `sql` (exact text) with `result` from now on. */
  setResult(sql: string, result: FakeResult, options?: FakeResultOptions): void;
  /** Makes `sql` (exact text) fail with `error` from now on. */
  setError(sql: string, error: FakeQueryError): void;
  /**
   * Runs `sql`: a canned result, or a `SELECT <literal or @param or ?> AS
   * name, …` list. Used by the fake BigQuery and the fake SQL API.
   */
  evaluate(
    sql: string,
    params?: QueryParameter[],
  ): Evaluated | { error: string };
}

/**
 * A job as the fake keeps it: the {@linkcode FakeJob} with the result it
 * serves and the polls left before it is done. Not exported by `mod.ts`.
 *
 * @example
 * ```ts ignore
 * const job: JobWithResult = { ...fakeJob, wire: result, options: {}, pendingPolls: 0 };
 * ```
 */
export interface JobWithResult extends FakeJob {
  /** The result, in BigQuery's wire format. */
  wire: FakeResult;
  /** How the result is served. */
  options: FakeResultOptions;
  /** getQueryResults calls still to answer `jobComplete: false`. */
  pendingPolls: number;
}
