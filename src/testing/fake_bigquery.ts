/**
 * The fake BigQuery REST subset that the fake CARTO serves at `/bigquery/v2`:
 * jobs.query (dry runs, stateless short queries, requestId idempotency),
 * getQueryResults (polling, pages, `fields=`) and jobs.cancel, over canned
 * results, canned errors and the SQL of `fake_select.ts`.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { QueryParameter } from "../dw/types.ts";
import {
  type BigQueryStatus,
  bytesOf,
  errorAnswer,
  firstAnswer,
  jobReference,
  pageStart,
  resultsPage,
  runningAnswer,
  selectFields,
} from "./fake_bigquery_answers.ts";
import type {
  Evaluated,
  FakeBigQuery,
  FakeQueryError,
  FakeResult,
  FakeResultOptions,
  JobWithResult,
} from "./fake_bigquery_types.ts";
import { evaluateSelect, toEvaluated, toWire } from "./fake_select.ts";
import { randomId } from "./util.ts";

/** The fake with its Hono app, which the fake CARTO mounts at `/bigquery/v2`. */
export interface FakeBigQueryServer extends FakeBigQuery {
  readonly app: Hono;
}

/**
 * Builds the fake BigQuery REST subset over `isValidToken` (the DW tokens
 * handed out).
 *
 * @example
 * ```ts ignore
 * const bigquery = fakeBigQuery({ isValidToken, projectId: "carto-dw-ac-fake" });
 * app.route("/bigquery/v2", bigquery.app);
 * ```
 */
export function fakeBigQuery(
  options: { isValidToken(token: string): boolean; projectId: string },
): FakeBigQueryServer {
  const { projectId } = options;
  const canned = new Map<
    string,
    { result: FakeResult; options: FakeResultOptions }
  >();
  const errors = new Map<string, FakeQueryError>();
  const jobs = new Map<string, JobWithResult>();
  const byRequestId = new Map<string, JobWithResult>();
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
    status: BigQueryStatus,
    reason: string,
    message: string,
    location?: string,
  ) => c.json(errorAnswer(status, reason, message, location), status);
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
    if (project !== projectId) {
      return fail(c, 404, "notFound", `Not found: Project ${project}`);
    }
  };

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
    if (known) return c.json(firstAnswer(projectId, known, request));
    const setup = canned.get(sql)?.options ?? {};
    if (setup.delayMs) await sleep(setup.delayMs);
    const error = errors.get(sql);
    if (error) {
      return fail(
        c,
        (error.status ?? 400) as BigQueryStatus,
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
        jobReference: { projectId, location: request.location ?? "US" },
        totalBytesProcessed: String(bytesOf(wire, setup)),
        jobComplete: true,
        cacheHit: false,
      });
    }
    const job: JobWithResult = {
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
      const body = resultsPage(projectId, job, 0, request.maxResults);
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
    return c.json(firstAnswer(projectId, job, request));
  });

  /** The job a request names, or the answer refusing the request. */
  const jobOf = (c: Context): JobWithResult | Response => {
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
      return c.json(runningAnswer(projectId, job));
    }
    job.state = "DONE";
    const token = c.req.query("pageToken");
    const start = token !== undefined
      ? pageStart(token)
      : Number(c.req.query("startIndex") ?? 0);
    if (start === undefined) {
      return fail(c, 400, "invalid", `Invalid page token: ${token}`);
    }
    const max = c.req.query("maxResults");
    const body = resultsPage(
      projectId,
      job,
      start,
      max ? Number(max) : undefined,
    );
    return c.json(selectFields(body, c.req.query("fields")));
  });

  app.post("/projects/:project/jobs/:jobId/cancel", (c) => {
    const job = jobOf(c);
    if (job instanceof Response) return job;
    if (job.state === "RUNNING") job.state = "CANCELLED";
    cancelled.push(job.id);
    return c.json({
      kind: "bigquery#jobCancelResponse",
      job: {
        jobReference: jobReference(projectId, job),
        status: { state: "DONE" },
      },
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
