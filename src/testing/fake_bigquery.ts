import { Hono } from "hono";
import type { Context } from "hono";
import { randomId } from "./util.ts";

/** A BigQuery schema field, as in the REST API's `TableFieldSchema`. */
export interface FakeField {
  name: string;
  type: string;
  mode?: "NULLABLE" | "REQUIRED" | "REPEATED";
  fields?: FakeField[];
  rangeElementType?: { type: string };
}

/** A canned query result in BigQuery's wire format (`rows` are `{ f: [{ v }] }`). */
export interface FakeResult {
  schema: FakeField[];
  rows: unknown[];
}

/** What the fake SQL engine computed for a query. */
export interface Evaluated {
  schema: FakeField[];
  /** One array of JSON values per row, in schema order. */
  values: unknown[][];
}

/** The BigQuery part of the fake CARTO. */
export interface FakeBigQuery {
  /** The Hono app, mounted at `/bigquery/v2`. */
  readonly app: Hono;
  /** Answers `sql` (exact text) with `result` from now on. */
  setResult(sql: string, result: FakeResult): void;
  /**
   * Runs `sql`: a canned result, or a `SELECT <literal or @param> AS name, …`
   * list. Used by the fake BigQuery and the fake SQL API.
   */
  evaluate(
    sql: string,
    params?: QueryParameter[],
  ): Evaluated | { error: string };
}

interface QueryParameter {
  name?: string;
  parameterType: { type: string };
  parameterValue: { value?: string | null };
}

interface Job {
  id: string;
  result: Evaluated | FakeResult;
}

/** Builds the fake BigQuery REST subset over `isValidToken` (the DW tokens handed out). */
export function fakeBigQuery(
  options: { isValidToken(token: string): boolean; projectId: string },
): FakeBigQuery {
  const canned = new Map<string, FakeResult>();
  const jobs = new Map<string, Job>();
  const app = new Hono();

  const evaluate = (
    sql: string,
    params: QueryParameter[] = [],
  ): Evaluated | { error: string } => {
    const result = canned.get(sql);
    if (result) return toEvaluated(result);
    return evaluateSelect(sql, params);
  };

  const authorized = (c: Context) => {
    const token = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")
      ?.[1];
    return !!token && options.isValidToken(token);
  };
  const unauthorized = (c: Context) =>
    c.json({
      error: {
        code: 401,
        message: "Request had invalid authentication credentials.",
        errors: [{ reason: "authError", message: "Invalid Credentials" }],
        status: "UNAUTHENTICATED",
      },
    }, 401);

  const page = (
    c: Context,
    job: Job,
    startIndex: number,
    maxResults?: number,
  ) => {
    const wire = "rows" in job.result ? job.result : toWire(job.result);
    const end = maxResults
      ? Math.min(wire.rows.length, startIndex + maxResults)
      : wire.rows.length;
    const body: Record<string, unknown> = {
      kind: "bigquery#queryResponse",
      schema: { fields: wire.schema },
      jobReference: {
        projectId: options.projectId,
        jobId: job.id,
        location: "US",
      },
      totalRows: String(wire.rows.length),
      rows: wire.rows.slice(startIndex, end),
      jobComplete: true,
      totalBytesProcessed: "0",
      cacheHit: false,
    };
    if (end < wire.rows.length) body.pageToken = String(end);
    return c.json(body);
  };

  app.post("/projects/:project/queries", async (c) => {
    if (!authorized(c)) return unauthorized(c);
    const request = await c.req.json();
    const result = evaluate(
      String(request.query ?? ""),
      request.queryParameters,
    );
    if ("error" in result) {
      return c.json({
        error: {
          code: 400,
          message: result.error,
          errors: [{
            reason: "invalidQuery",
            location: "q",
            message: result.error,
          }],
          status: "INVALID_ARGUMENT",
        },
      }, 400);
    }
    const job: Job = { id: `job_${randomId(12)}`, result };
    jobs.set(job.id, job);
    return page(c, job, 0, request.maxResults);
  });

  app.get("/projects/:project/queries/:jobId", (c) => {
    if (!authorized(c)) return unauthorized(c);
    const job = jobs.get(c.req.param("jobId"));
    if (!job) {
      return c.json({ error: { code: 404, message: "Not found: Job" } }, 404);
    }
    const start = Number(
      c.req.query("pageToken") ?? c.req.query("startIndex") ?? 0,
    );
    const max = c.req.query("maxResults");
    return page(c, job, start, max ? Number(max) : undefined);
  });

  return {
    app,
    setResult: (sql, result) => canned.set(sql, result),
    evaluate,
  };
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

/** `SELECT 1 AS n, 'x' AS s, @p AS p`: enough SQL for demos and tests. */
function evaluateSelect(
  sql: string,
  params: QueryParameter[],
): Evaluated | { error: string } {
  const list = SELECT.exec(sql)?.[1];
  if (!list) return { error: `Syntax error: Unexpected keyword at [1:1]` };
  const schema: FakeField[] = [];
  const values: unknown[] = [];
  for (const item of splitTopLevel(list)) {
    const m = ITEM.exec(item.trim());
    if (!m) {
      return {
        error:
          `Syntax error: expected "<expression> AS <name>" in "${item.trim()}"`,
      };
    }
    const [, expr, name] = m;
    const literal = evaluateLiteral(expr.trim(), params);
    if ("error" in literal) return literal;
    schema.push({ name, type: literal.type, mode: "NULLABLE" });
    values.push(literal.value);
  }
  return { schema, values: [values] };
}

function evaluateLiteral(
  expr: string,
  params: QueryParameter[],
): { type: string; value: string | null } | { error: string } {
  if (/^-?\d+$/.test(expr)) return { type: "INTEGER", value: expr };
  if (/^-?\d*\.\d+(e-?\d+)?$/i.test(expr)) {
    return { type: "FLOAT", value: expr };
  }
  if (/^'.*'$/s.test(expr)) return { type: "STRING", value: expr.slice(1, -1) };
  if (/^(true|false)$/i.test(expr)) {
    return { type: "BOOLEAN", value: expr.toLowerCase() };
  }
  if (/^null$/i.test(expr)) return { type: "INTEGER", value: null };
  const param = /^@([A-Za-z_][A-Za-z0-9_]*)$/.exec(expr)?.[1];
  if (param) {
    const p = params.find((q) => q.name === param);
    if (!p) return { error: `Query parameter '${param}' not found at [1:8]` };
    const type = p.parameterType.type.replace(/^INT64$/, "INTEGER").replace(
      /^FLOAT64$/,
      "FLOAT",
    )
      .replace(/^BOOL$/, "BOOLEAN");
    return { type, value: p.parameterValue.value ?? null };
  }
  return { error: `Unrecognized name: ${expr} at [1:8]` };
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
