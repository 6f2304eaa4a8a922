/**
 * The bodies the fake BigQuery answers with, in the REST API's format: pages
 * of a job's result (with opaque page tokens and `fields=` partial answers),
 * a job still running, and Google's error objects.
 *
 * @module
 */
import type {
  FakeResult,
  FakeResultOptions,
  JobWithResult,
} from "./fake_bigquery_types.ts";

/** The HTTP statuses the fake BigQuery answers errors with. */
export type BigQueryStatus = 400 | 401 | 403 | 404 | 409 | 429 | 500 | 503;

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

const DEFAULT_BYTES_PER_ROW = 1024;

/**
 * A Google API error body: `{ error: { code, message, errors, status } }`.
 *
 * @example
 * ```ts ignore
 * c.json(errorAnswer(404, "notFound", "Not found: Job job_1"), 404);
 * ```
 */
export function errorAnswer(
  status: BigQueryStatus,
  reason: string,
  message: string,
  location?: string,
): Record<string, unknown> {
  return {
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
  };
}

/**
 * The `jobReference` of `job` in `projectId`.
 *
 * @example
 * ```ts ignore
 * jobReference("carto-dw-ac-fake", job); // { projectId, jobId: "job_…", location: "US" }
 * ```
 */
export function jobReference(projectId: string, job: JobWithResult) {
  return { projectId, jobId: job.id, location: job.location };
}

/**
 * The answer of getQueryResults while `job` runs.
 *
 * @example
 * ```ts ignore
 * c.json(runningAnswer(projectId, job)); // { …, jobComplete: false }
 * ```
 */
export function runningAnswer(projectId: string, job: JobWithResult) {
  return {
    kind: "bigquery#getQueryResultsResponse",
    jobReference: jobReference(projectId, job),
    jobComplete: false,
  };
}

/**
 * The page of `job`'s rows from `startIndex`, at most `maxResults` and the
 * job's page size, with a `pageToken` when rows remain.
 *
 * @example
 * ```ts ignore
 * const body = resultsPage(projectId, job, 0, 100);
 * ```
 */
export function resultsPage(
  projectId: string,
  job: JobWithResult,
  startIndex: number,
  maxResults: number | undefined,
): Record<string, unknown> {
  const rows = job.wire.rows;
  const size = Math.min(
    maxResults ?? Infinity,
    job.options.pageSize ?? Infinity,
  );
  const end = Math.min(rows.length, startIndex + size);
  const body: Record<string, unknown> = {
    kind: "bigquery#getQueryResultsResponse",
    schema: { fields: job.wire.schema },
    jobReference: jobReference(projectId, job),
    totalRows: String(rows.length),
    rows: rows.slice(startIndex, end),
    jobComplete: true,
    totalBytesProcessed: String(bytesOf(job.wire, job.options)),
    cacheHit: job.options.cacheHit ?? false,
  };
  if (end < rows.length) body.pageToken = pageToken(end);
  return body;
}

/**
 * The answer of jobs.query that created `job`: running, or its first page.
 *
 * @example
 * ```ts ignore
 * c.json(firstAnswer(projectId, job, request));
 * ```
 */
export function firstAnswer(
  projectId: string,
  job: JobWithResult,
  request: { maxResults?: number },
): Record<string, unknown> {
  if (job.state === "RUNNING") {
    return {
      ...runningAnswer(projectId, job),
      kind: "bigquery#queryResponse",
      jobCreationReason: { code: "LONG_RUNNING" },
    };
  }
  return {
    ...resultsPage(projectId, job, 0, request.maxResults),
    kind: "bigquery#queryResponse",
    jobCreationReason: { code: "LARGE_RESULTS" },
  };
}

/** Opaque-looking page tokens, as BigQuery's are. */
function pageToken(start: number): string {
  return btoa(`page:${start}`);
}

/**
 * The row a page token starts at; `undefined` for a token the fake never gave.
 *
 * @example
 * ```ts ignore
 * pageStart(btoa("page:100")); // 100
 * ```
 */
export function pageStart(token: string): number | undefined {
  try {
    const m = /^page:(\d+)$/.exec(atob(token));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `fields=` partial response: only the top-level keys named.
 *
 * @example
 * ```ts ignore
 * selectFields(body, "pageToken,rows"); // { pageToken, rows }
 * ```
 */
export function selectFields(
  body: Record<string, unknown>,
  fields: string | undefined,
): Record<string, unknown> {
  if (!fields) return body;
  const keep = new Set(fields.split(",").map((f) => f.trim().split(/[/(]/)[0]));
  return Object.fromEntries(Object.entries(body).filter(([k]) => keep.has(k)));
}

/**
 * `totalBytesProcessed` of a result: as set, else 1024 per row.
 *
 * @example
 * ```ts ignore
 * bytesOf({ schema, rows: [row, row] }, {}); // 2048
 * ```
 */
export function bytesOf(wire: FakeResult, options: FakeResultOptions): number {
  return options.totalBytesProcessed ??
    wire.rows.length * DEFAULT_BYTES_PER_ROW;
}
