import { Hono } from "hono";
import type { Context } from "hono";
import type {
  QueryParameter,
  QueryParameterType,
  QueryParameterValue,
} from "../dw/types.ts";
import { randomId } from "./util.ts";

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

/** The fake with its Hono app, which the fake CARTO mounts at `/bigquery/v2`. */
export interface FakeBigQueryServer extends FakeBigQuery {
  readonly app: Hono;
}

interface Job extends FakeJob {
  wire: FakeResult;
  options: FakeResultOptions;
  pendingPolls: number;
}

type Status = 400 | 401 | 403 | 404 | 409 | 429 | 500 | 503;

const DEFAULT_BYTES_PER_ROW = 1024;

/** Builds the fake BigQuery REST subset over `isValidToken` (the DW tokens handed out). */
export function fakeBigQuery(
  options: { isValidToken(token: string): boolean; projectId: string },
): FakeBigQueryServer {
  const canned = new Map<
    string,
    { result: FakeResult; options: FakeResultOptions }
  >();
  const errors = new Map<string, FakeQueryError>();
  const jobs = new Map<string, Job>();
  const byRequestId = new Map<string, Job>();
  const cancelled: string[] = [];
  const app = new Hono();

  const evaluate = (
    sql: string,
    params: QueryParameter[] = [],
  ): Evaluated | { error: string } => {
    const error = errors.get(sql);
    if (error) return { error: error.message };
    const result = canned.get(sql);
    if (result) return toEvaluated(result.result);
    return evaluateSelect(sql, params);
  };

  const authorized = (c: Context) => {
    const token = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")
      ?.[1];
    return !!token && options.isValidToken(token);
  };
  const fail = (
    c: Context,
    status: Status,
    reason: string,
    message: string,
    location?: string,
  ) =>
    c.json({
      error: {
        code: status,
        message,
        errors: [{
          reason,
          message,
          ...(location ? { location, locationType: "other" } : {}),
        }],
        status: STATUS_NAMES[status] ?? "UNKNOWN",
      },
    }, status);
  const unauthorized = (c: Context) =>
    fail(
      c,
      401,
      "authError",
      "Request had invalid authentication credentials.",
    );
  const guard = (c: Context) => {
    if (!authorized(c)) return unauthorized(c);
    const project = c.req.param("project");
    if (project !== options.projectId) {
      return fail(c, 404, "notFound", `Not found: Project ${project}`);
    }
  };

  const page = (
    job: Job,
    startIndex: number,
    maxResults: number | undefined,
  ): Record<string, unknown> => {
    const rows = job.wire.rows;
    const size = Math.min(
      maxResults ?? Infinity,
      job.options.pageSize ?? Infinity,
    );
    const end = Math.min(rows.length, startIndex + size);
    const body: Record<string, unknown> = {
      kind: "bigquery#getQueryResultsResponse",
      schema: { fields: job.wire.schema },
      jobReference: jobReference(job),
      totalRows: String(rows.length),
      rows: rows.slice(startIndex, end),
      jobComplete: true,
      totalBytesProcessed: String(bytesOf(job.wire, job.options)),
      cacheHit: job.options.cacheHit ?? false,
    };
    if (end < rows.length) body.pageToken = pageToken(end);
    return body;
  };
  const jobReference = (job: Job) => ({
    projectId: options.projectId,
    jobId: job.id,
    location: job.location,
  });
  const running = (job: Job) => ({
    kind: "bigquery#getQueryResultsResponse",
    jobReference: jobReference(job),
    jobComplete: false,
  });

  app.post("/projects/:project/queries", async (c) => {
    const refused = guard(c);
    if (refused) return refused;
    const request = await c.req.json();
    const sql = String(request.query ?? "");
    if (request.useLegacySql !== false) {
      return fail(
        c,
        400,
        "invalidQuery",
        "The fake BigQuery only runs GoogleSQL: send useLegacySql: false.",
        "q",
      );
    }
    const known = request.requestId && byRequestId.get(request.requestId);
    if (known) return c.json(firstAnswer(known, request));
    const setup = canned.get(sql)?.options ?? {};
    if (setup.delayMs) await sleep(setup.delayMs);
    const error = errors.get(sql);
    if (error) {
      return fail(
        c,
        (error.status ?? 400) as Status,
        error.reason ?? "invalidQuery",
        error.message,
        error.location ?? "q",
      );
    }
    // A canned result is served as it is: big results are not copied.
    const result = canned.get(sql)?.result ??
      evaluate(sql, request.queryParameters);
    if ("error" in result) {
      return fail(c, 400, "invalidQuery", result.error, "q");
    }
    const wire = "rows" in result ? result : toWire(result);
    if (request.dryRun) {
      return c.json({
        kind: "bigquery#queryResponse",
        schema: { fields: wire.schema },
        jobReference: {
          projectId: options.projectId,
          location: request.location ?? "US",
        },
        totalBytesProcessed: String(bytesOf(wire, setup)),
        jobComplete: true,
        cacheHit: false,
      });
    }
    const job: Job = {
      id: `job_${randomId(12)}`,
      sql,
      location: request.location ?? "US",
      requestId: request.requestId,
      labels: request.labels,
      state: setup.pendingPolls === undefined ? "DONE" : "RUNNING",
      wire,
      options: setup,
      pendingPolls: setup.pendingPolls ?? 0,
    };
    const firstPage = Math.min(
      request.maxResults ?? Infinity,
      setup.pageSize ?? Infinity,
    );
    const stateless = request.jobCreationMode === "JOB_CREATION_OPTIONAL" &&
      job.state === "DONE" && wire.rows.length <= firstPage;
    if (stateless) {
      // Short queries run without a job: a queryId, no jobReference.
      const body = page(job, 0, request.maxResults);
      delete body.jobReference;
      return c.json({
        ...body,
        kind: "bigquery#queryResponse",
        queryId: `query_${randomId(12)}`,
        location: job.location,
      });
    }
    jobs.set(job.id, job);
    if (job.requestId) byRequestId.set(job.requestId, job);
    return c.json(firstAnswer(job, request));
  });

  const firstAnswer = (job: Job, request: { maxResults?: number }) => {
    if (job.state === "RUNNING") {
      return {
        ...running(job),
        kind: "bigquery#queryResponse",
        jobCreationReason: { code: "LONG_RUNNING" },
      };
    }
    return {
      ...page(job, 0, request.maxResults),
      kind: "bigquery#queryResponse",
      jobCreationReason: { code: "LARGE_RESULTS" },
    };
  };

  /** The job a request names, or the answer refusing the request. */
  const jobOf = (c: Context): Job | Response => {
    const refused = guard(c);
    if (refused) return refused;
    const id = c.req.param("jobId") ?? "";
    return jobs.get(id) ?? fail(c, 404, "notFound", `Not found: Job ${id}`);
  };

  app.get("/projects/:project/queries/:jobId", (c) => {
    const job = jobOf(c);
    if (job instanceof Response) return job;
    if (job.state === "CANCELLED") {
      return fail(
        c,
        400,
        "stopped",
        "Job execution was cancelled: User requested cancellation",
      );
    }
    if (job.pendingPolls > 0) {
      job.pendingPolls--;
      return c.json(running(job));
    }
    job.state = "DONE";
    const token = c.req.query("pageToken");
    const start = token !== undefined
      ? startOf(token)
      : Number(c.req.query("startIndex") ?? 0);
    if (start === undefined) {
      return fail(c, 400, "invalid", `Invalid page token: ${token}`);
    }
    const max = c.req.query("maxResults");
    const body = page(job, start, max ? Number(max) : undefined);
    return c.json(selectFields(body, c.req.query("fields")));
  });

  app.post("/projects/:project/jobs/:jobId/cancel", (c) => {
    const job = jobOf(c);
    if (job instanceof Response) return job;
    if (job.state === "RUNNING") job.state = "CANCELLED";
    cancelled.push(job.id);
    return c.json({
      kind: "bigquery#jobCancelResponse",
      job: { jobReference: jobReference(job), status: { state: "DONE" } },
    });
  });

  return {
    app,
    jobs,
    cancelled,
    setResult: (sql, result, resultOptions = {}) => {
      errors.delete(sql);
      canned.set(sql, { result, options: resultOptions });
    },
    setError: (sql, error) => {
      canned.delete(sql);
      errors.set(sql, error);
    },
    evaluate,
  };
}

const STATUS_NAMES: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ALREADY_EXISTS",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
};

/** Opaque-looking page tokens, as BigQuery's are. */
function pageToken(start: number): string {
  return btoa(`page:${start}`);
}

function startOf(token: string): number | undefined {
  try {
    const m = /^page:(\d+)$/.exec(atob(token));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The `fields=` partial response: only the top-level keys named. */
function selectFields(
  body: Record<string, unknown>,
  fields: string | undefined,
): Record<string, unknown> {
  if (!fields) return body;
  const keep = new Set(fields.split(",").map((f) => f.trim().split(/[/(]/)[0]));
  return Object.fromEntries(Object.entries(body).filter(([k]) => keep.has(k)));
}

function bytesOf(wire: FakeResult, options: FakeResultOptions): number {
  return options.totalBytesProcessed ??
    wire.rows.length * DEFAULT_BYTES_PER_ROW;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function toEvaluated(result: FakeResult): Evaluated {
  return {
    schema: result.schema,
    values: result.rows.map((row) =>
      ((row as { f: { v: unknown }[] }).f ?? []).map((cell) => cell.v)
    ),
  };
}

function toWire(result: Evaluated): FakeResult {
  return {
    schema: result.schema,
    rows: result.values.map((r) => ({ f: r.map((v) => ({ v })) })),
  };
}

const SELECT = /^\s*select\s+(.+?)\s*;?\s*$/is;
const ITEM = /^(.+?)\s+as\s+([A-Za-z_][A-Za-z0-9_]*)$/is;

/** `SELECT 1 AS n, 'x' AS s, @p AS p, ? AS q`: enough SQL for demos and tests. */
function evaluateSelect(
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
