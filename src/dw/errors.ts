import {
  CredentialsError,
  type CredentialsErrorCode,
  type CredentialsErrorOptions,
} from "../errors.ts";
import type { ErrorProto } from "./types.ts";

/**
 * A position in the query text, as BigQuery gives it (`at [line:column]`).
 *
 * @example
 * ```ts
 * import type { QueryPosition } from "@carto/auth";
 *
 * const where: QueryPosition = { line: 1, column: 8 };
 * ```
 */
export interface QueryPosition {
  /** The line, from 1. */
  line: number;
  /** The column, from 1. */
  column: number;
}

/**
 * Details attached to a {@linkcode BigQueryError}.
 *
 * @example
 * ```ts
 * import { BigQueryError } from "@carto/auth";
 *
 * new BigQueryError("BigQuery query failed: HTTP 400 invalidQuery.", {
 *   code: "invalid_input",
 *   errors: [{ reason: "invalidQuery" }],
 * });
 * ```
 */
export interface BigQueryErrorOptions extends CredentialsErrorOptions {
  /** BigQuery's `error.errors`, each with its `reason`. */
  errors?: ErrorProto[];
  /** Where in the query text the error is. */
  position?: QueryPosition;
  /** The job the error belongs to, when there is one. */
  jobId?: string;
}

/**
 * A failure of the Data Warehouse client: a query BigQuery rejected, a
 * refused token, a rate limit or outage that outlasted the retries, a network
 * failure or timeout, an abort, a parameter or value that cannot be
 * represented as asked. (Failing to get DW credentials from CARTO is a plain
 * {@linkcode CredentialsError}.) It is a
 * {@linkcode CredentialsError}, so one `catch` handles every failure of the
 * library; `code` says what kind it is (`invalid_input` for a wrong query or
 * option, `invalid_credentials`, `server_error`, `aborted`, …) and `reasons`
 * carry BigQuery's own words (`invalidQuery`, `notFound`, `accessDenied`,
 * `rateLimitExceeded`, …). The message never contains a token.
 *
 * @example Showing where a query is wrong
 * ```ts ignore
 * import { BigQueryError } from "@carto/auth";
 *
 * try {
 *   await dw.query("SELECT FROM nowhere");
 * } catch (e) {
 *   if (e instanceof BigQueryError && e.reasons.includes("invalidQuery")) {
 *     console.error(e.message, e.position); // … { line: 1, column: 8 }
 *   } else throw e;
 * }
 * ```
 */
export class BigQueryError extends CredentialsError {
  /** BigQuery's `error.errors`: each failure with its `reason`, `message` and `location`. */
  readonly errors: readonly ErrorProto[];
  /** The `reason` of each entry of {@linkcode errors}, e.g. `["invalidQuery"]`. */
  readonly reasons: readonly string[];
  /** Where in the query text the error is, when BigQuery said (`at [1:8]`). */
  readonly position?: QueryPosition;
  /** The job the error belongs to, when there is one. */
  readonly jobId?: string;

  /** Creates an error; `options` carry what BigQuery said. */
  constructor(message: string, options: BigQueryErrorOptions = {}) {
    super(message, options);
    this.name = "BigQueryError";
    this.errors = options.errors ?? [];
    this.reasons = this.errors.map((e) => e.reason ?? "").filter(Boolean);
    this.position = options.position;
    this.jobId = options.jobId;
  }
}

/** What BigQuery said in an error body: `{ error: { code, message, errors, status } }`. */
export interface BigQueryErrorBody {
  message?: string;
  status?: string;
  errors: ErrorProto[];
}

/** Reads BigQuery's error body; `undefined` when `text` is not one. */
export function parseErrorBody(text: string): BigQueryErrorBody | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const error = (body as { error?: unknown } | null)?.error;
  if (!error || typeof error !== "object") return undefined;
  const e = error as Record<string, unknown>;
  const errors = Array.isArray(e.errors)
    ? e.errors.filter((x): x is ErrorProto => !!x && typeof x === "object")
    : [];
  return {
    message: typeof e.message === "string" ? e.message : undefined,
    status: typeof e.status === "string" ? e.status : undefined,
    errors,
  };
}

const POSITION = /at \[(\d+):(\d+)\]/;

/** The `[line:column]` BigQuery puts at the end of query errors. */
export function positionIn(message: string): QueryPosition | undefined {
  const m = POSITION.exec(message);
  return m ? { line: Number(m[1]), column: Number(m[2]) } : undefined;
}

/**
 * What an HTTP error from BigQuery means for the caller: a refused token or
 * access, a wrong query or name (400, 404), or the service saying no for now
 * (rate limits, quotas, outages).
 */
function codeFor(status: number, reasons: string[]): CredentialsErrorCode {
  if (status === 401 || reasons.includes("accessDenied")) {
    return "invalid_credentials";
  }
  if (reasons.some((r) => RETRYABLE_REASONS.has(r))) return "server_error";
  if (status === 400 || status === 404) return "invalid_input";
  return "server_error";
}

/** Reasons that say "try again later" whatever the HTTP status. */
export const RETRYABLE_REASONS: ReadonlySet<string> = new Set([
  "rateLimitExceeded",
  "backendError",
  "internalError",
]);

/** What the caller can do about an error of this kind. */
function adviceFor(code: CredentialsErrorCode, status: number): string {
  if (status === 401) {
    return " BigQuery refused the CARTO Data Warehouse token even after a new one was fetched; " +
      "check that the account still has the CARTO Data Warehouse, or log in again.";
  }
  if (code === "invalid_credentials") {
    return " Check that the account may read the tables the query uses.";
  }
  if (code === "server_error") return " Try again later.";
  return "";
}

/** Context that makes a BigQuery error message useful. */
export interface ErrorContext {
  /** What was being done, e.g. "BigQuery query", for the message. */
  what: string;
  /** The endpoint (URL without query string). */
  endpoint?: string;
  /** The SQL, to point at the position of a syntax error. */
  sql?: string;
  jobId?: string;
  /** How many attempts were made (mentioned when > 1). */
  attempts?: number;
}

/**
 * The error for an HTTP error answer of BigQuery: reasons, message and query
 * position when BigQuery gave them, and advice.
 */
export function bigQueryHttpError(
  status: number,
  text: string,
  context: ErrorContext,
): BigQueryError {
  const said = parseErrorBody(text);
  const errors = said?.errors ?? [];
  const reasons = errors.map((e) => e.reason ?? "").filter(Boolean);
  const code = codeFor(status, reasons);
  const detail = clip(
    said?.message ?? errors.find((e) => e.message)?.message ??
      (text.trim().startsWith("<") ? "an HTML page" : text.trim()),
  );
  const position = positionIn(detail);
  let message = `${context.what} failed: HTTP ${status}`;
  if (reasons.length) message += ` ${reasons.join(", ")}`;
  if (detail) message += `: ${detail}`;
  if (!/[.!?]$/.test(message)) message += ".";
  if ((context.attempts ?? 1) > 1) {
    message += ` (gave up after ${context.attempts} attempts)`;
  }
  message += adviceFor(code, status);
  if (position && context.sql) message += excerpt(context.sql, position);
  return new BigQueryError(message, {
    code,
    status,
    endpoint: context.endpoint,
    error: said?.status ?? reasons[0],
    errorDescription: said?.message,
    errors,
    position,
    jobId: context.jobId,
  });
}

/** The query line at `position` with a caret under the column, clipped to a readable width. */
export function excerpt(sql: string, position: QueryPosition): string {
  const line = sql.split(/\r?\n/)[position.line - 1];
  if (line === undefined) return "";
  const width = 100;
  const start = Math.max(
    0,
    Math.min(position.column - 1 - width / 2, line.length - width),
  );
  const shown = line.slice(start, start + width);
  const caret = " ".repeat(Math.max(0, position.column - 1 - start)) + "^";
  return `\n  ${shown}\n  ${caret}`;
}

function clip(s: string): string {
  return s.length > 500 ? `${s.slice(0, 500)}…` : s;
}
