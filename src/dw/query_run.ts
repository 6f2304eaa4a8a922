/**
 * One run of a query: jobs.query, polling getQueryResults until the job is
 * complete, then its pages, each next page fetched while the current one is
 * decoded and consumed. An aborted signal cancels the job (jobs.cancel).
 */
import { CredentialsError } from "../errors.ts";
import type { QueryMeta, QueryOptions } from "./client.ts";
import { BigQueryError } from "./errors.ts";
import type { EncodedParams } from "./params.ts";
import type { BigQueryRest } from "./rest.ts";
import { ProgressReporter } from "./progress.ts";
import { abortedError, sleep } from "./retry.ts";
import type { JobReference, QueryResponse, WireRow } from "./types.ts";

/** How BigQuery treats jobs.query requests without a job: the default creates one only when needed. */
export type JobCreationMode = "JOB_CREATION_OPTIONAL" | "JOB_CREATION_REQUIRED";

/** Everything a run needs: the query options, parameters encoded, client defaults applied. */
export interface RunSettings
  extends Omit<QueryOptions, "params" | "types" | "int64"> {
  params?: EncodedParams;
  /** First wait between polls of an incomplete job, doubled up to 1 s. */
  pollIntervalMs: number;
}

/** BigQuery's own default for `timeoutMs`. */
const SERVER_WAIT_MS = 10_000;
const MAX_POLL_INTERVAL_MS = 1_000;
/** How long an abort waits for jobs.cancel before rejecting anyway. */
const CANCEL_TIMEOUT_MS = 5_000;
/** Fields of later pages: the schema and statistics are not sent again. */
const PAGE_FIELDS = "jobComplete,pageToken,rows";
/**
 * Page sizes when the caller sets no `maxResults`. BigQuery limits pages by
 * its internal data size (10 MB for jobs.query, 20 MB for getQueryResults),
 * and JSON can be many times larger (a NULL is 0 bytes there and
 * `{"v":null}` here), so the client bounds them itself: the first page
 * holds at most this many rows, and each later one as many rows as made
 * about {@linkcode PAGE_TARGET_CHARS} of JSON in the page before. Two such
 * pages (the one read and the one prefetched) fit comfortably in memory.
 */
const FIRST_PAGE_ROWS = 10_000;
/** The JSON text per page aimed at when the caller sets no `maxResults`. */
const PAGE_TARGET_CHARS = 8 * 1024 * 1024;

/** See the module doc. */
export class QueryRun {
  readonly #rest: BigQueryRest;
  readonly #sql: string;
  readonly #settings: RunSettings;
  /** Idempotency key: a retried jobs.query finds the job of the first attempt. */
  readonly #requestId = crypto.randomUUID();
  #job?: JobReference;
  /** The first page, until {@linkcode pages} hands it out. */
  #first?: QueryResponse;
  readonly #progress: ProgressReporter;
  /** Rows to ask for in the next page; see {@linkcode FIRST_PAGE_ROWS}. */
  #pageRows: number;

  constructor(rest: BigQueryRest, sql: string, settings: RunSettings) {
    this.#rest = rest;
    this.#sql = sql;
    this.#settings = settings;
    this.#progress = new ProgressReporter(settings.onProgress);
    this.#pageRows = settings.maxResults ?? FIRST_PAGE_ROWS;
  }

  /** The jobs.query request body. */
  body(dryRun = false): Record<string, unknown> {
    const s = this.#settings;
    return {
      query: this.#sql,
      useLegacySql: false,
      formatOptions: { useInt64Timestamp: true },
      requestId: this.#requestId,
      jobCreationMode: s.jobCreationMode ?? "JOB_CREATION_OPTIONAL",
      location: s.location,
      maxResults: dryRun ? undefined : this.#pageRows,
      timeoutMs: s.timeoutMs,
      labels: s.labels,
      maximumBytesBilled: s.maximumBytesBilled === undefined
        ? undefined
        : String(s.maximumBytesBilled),
      useQueryCache: s.useQueryCache,
      ...(dryRun ? { dryRun: true } : {}),
      ...s.params,
    };
  }

  /** A dry run: BigQuery validates the query and estimates it, and runs nothing. */
  dryRun(): Promise<QueryResponse> {
    return this.#rest.call<QueryResponse>({
      method: "POST",
      path: "/queries",
      body: this.body(true),
      signal: this.#settings.signal,
      context: { what: "BigQuery dry run", sql: this.#sql },
    });
  }

  /** Runs the query until it is complete; the rows come from {@linkcode pages}. */
  async start(): Promise<QueryMeta> {
    this.#progress.report({ state: "PENDING" });
    let response = await this.#query();
    this.#job = response.jobReference;
    for (let poll = 0; !response.jobComplete; poll++) {
      this.#progress.report({ state: "RUNNING", jobId: this.#job?.jobId });
      response = await this.#poll(poll);
    }
    this.#first = response;
    const meta = metaOf(response);
    this.#progress.report({
      state: "DONE",
      jobId: meta.jobId,
      bytesProcessed: meta.totalBytesProcessed,
      totalRows: meta.totalRows,
    });
    return meta;
  }

  /**
   * The pages of the completed query, decoded by `decode`. The next page is
   * requested before the current one is decoded and handed out, and the
   * raw page is dropped once decoded: at most two pages are held.
   */
  async *pages<R>(
    decode: (rows: readonly WireRow[]) => R[],
  ): AsyncGenerator<R[], void, undefined> {
    // The raw page lives in this box, not in a variable of this generator:
    // engines keep a suspended generator's temporaries alive, and a page
    // held there would stay in memory while the next one is read.
    const held = { page: this.#first };
    this.#first = undefined;
    const totalRows = held.page?.totalRows;
    const expected = totalRows === undefined ? undefined : Number(totalRows);
    let received = 0;
    const stop = new AbortController(); // a consumer that stops early ends the prefetch
    const signal = this.#settings.signal
      ? AbortSignal.any([this.#settings.signal, stop.signal])
      : stop.signal;
    try {
      while (held.page) {
        const token = held.page.pageToken;
        const next = token
          ? this.#page(token, signal).then((page) => {
            held.page = page;
          })
          : undefined;
        next?.catch(() => {}); // awaited below; until then not "unhandled"
        received += held.page.rows?.length ?? 0;
        this.#progress.report({ rowsFetched: received });
        if (!next && expected !== undefined && received < expected) {
          // A last page short of totalRows would otherwise be silently missing rows.
          throw new BigQueryError(
            `BigQuery (${this.#rest.endpoint}) stopped sending rows after ${received} of ` +
              `${expected}, with no page left to read. Run the query again.`,
            {
              code: "bad_response",
              endpoint: this.#rest.endpoint,
              jobId: this.#job?.jobId,
            },
          );
        }
        let rows: R[] | undefined = decodeHeld(held, decode);
        yield rows;
        rows = undefined; // not held while the next page is awaited
        if (next) await next;
      }
    } finally {
      stop.abort();
    }
  }

  /** jobs.query. It is not aborted with the signal: its answer names the job to cancel. */
  async #query(): Promise<QueryResponse> {
    const signal = this.#settings.signal;
    if (signal?.aborted) throw abortedError(signal);
    const request = this.#rest.callSized<QueryResponse>({
      method: "POST",
      path: "/queries",
      body: this.body(),
      serverWaitMs: this.#settings.timeoutMs ?? SERVER_WAIT_MS,
      context: { what: "BigQuery query", sql: this.#sql },
      onRetry: this.#progress.onRetry,
    }).then((answer) => this.#sized(answer));
    if (!signal) return await request;
    try {
      return await untilAborted(request, signal);
    } catch (error) {
      if (!signal.aborted) throw error;
      // Reject now; cancel the job when (if) the answer names one.
      request.then((r) => {
        if (!r.jobComplete && r.jobReference?.jobId) {
          return this.#cancel(r.jobReference);
        }
      }).catch(() => {});
      throw abortedError(signal);
    }
  }

  /** One getQueryResults call on the incomplete job. */
  async #poll(poll: number): Promise<QueryResponse> {
    const job = this.#job;
    if (!job?.jobId) {
      throw new BigQueryError(
        `BigQuery (${this.#rest.endpoint}) said the query is not complete but named no ` +
          `job to wait for.`,
        { code: "bad_response", endpoint: this.#rest.endpoint },
      );
    }
    const { signal, pollIntervalMs } = this.#settings;
    try {
      const wait = Math.min(pollIntervalMs * 2 ** poll, MAX_POLL_INTERVAL_MS);
      await sleep(wait, signal);
      const serverWaitMs = this.#settings.timeoutMs ?? SERVER_WAIT_MS;
      return await this.#getQueryResults(
        job,
        { timeoutMs: serverWaitMs, maxResults: this.#pageRows },
        signal,
        serverWaitMs,
      );
    } catch (error) {
      if (!signal?.aborted) throw error;
      throw abortedError(signal, job.jobId, await this.#cancel(job));
    }
  }

  /** A later page of the completed job. */
  async #page(pageToken: string, signal: AbortSignal): Promise<QueryResponse> {
    const job = this.#job;
    if (!job?.jobId) {
      throw new BigQueryError(
        `BigQuery (${this.#rest.endpoint}) sent a page token but named no job to read the ` +
          `next page from.`,
        { code: "bad_response", endpoint: this.#rest.endpoint },
      );
    }
    try {
      return await this.#getQueryResults(job, {
        pageToken,
        maxResults: this.#pageRows,
        fields: PAGE_FIELDS,
      }, signal);
    } catch (error) {
      const user = this.#settings.signal;
      if (user?.aborted && isAbort(error)) throw abortedError(user);
      throw error;
    }
  }

  #getQueryResults(
    job: JobReference,
    query: Record<string, string | number | undefined>,
    signal: AbortSignal | undefined,
    serverWaitMs?: number,
  ): Promise<QueryResponse> {
    return this.#rest.callSized<QueryResponse>({
      method: "GET",
      path: `/queries/${encodeURIComponent(job.jobId!)}`,
      query: {
        ...query,
        location: job.location,
        "formatOptions.useInt64Timestamp": "true",
      },
      signal,
      serverWaitMs,
      context: {
        what: "BigQuery query",
        sql: this.#sql,
        jobId: job.jobId,
      },
      onRetry: this.#progress.onRetry,
    }).then((answer) => this.#sized(answer));
  }

  /** A page's answer; its JSON per row sizes the next page when the caller did not. */
  #sized(answer: { body: QueryResponse; chars: number }): QueryResponse {
    const rows = answer.body.rows?.length;
    if (this.#settings.maxResults === undefined && rows) {
      const perRow = answer.chars / rows;
      this.#pageRows = Math.max(1, Math.floor(PAGE_TARGET_CHARS / perRow));
    }
    return answer.body;
  }

  /** jobs.cancel, bounded in time; whether BigQuery took it. */
  async #cancel(job: JobReference): Promise<boolean> {
    const request = this.#rest.call({
      method: "POST",
      path: `/jobs/${encodeURIComponent(job.jobId!)}/cancel`,
      query: { location: job.location },
      retries: 1,
      context: { what: "BigQuery jobs.cancel", jobId: job.jobId },
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), CANCEL_TIMEOUT_MS);
    });
    try {
      await Promise.race([request, timeout]);
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Decodes the page in `held` and empties it, so that only the decoded rows remain. */
function decodeHeld<R>(
  held: { page?: QueryResponse },
  decode: (rows: readonly WireRow[]) => R[],
): R[] {
  const rows = held.page?.rows ?? [];
  held.page = undefined;
  return decode(rows);
}

function metaOf(response: QueryResponse): QueryMeta {
  const optionalNumber = (v: string | undefined) =>
    v === undefined ? undefined : Number(v);
  const rows = response.rows?.length ?? 0;
  return {
    schema: response.schema?.fields ?? [],
    totalRows: optionalNumber(response.totalRows) ?? rows,
    jobId: response.jobReference?.jobId,
    queryId: response.queryId,
    location: response.jobReference?.location ?? response.location,
    totalBytesProcessed: optionalNumber(response.totalBytesProcessed),
    cacheHit: response.cacheHit,
    numDmlAffectedRows: optionalNumber(response.numDmlAffectedRows),
  };
}

/** `promise`, or a rejection as soon as `signal` fires. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    if (signal.aborted) return abort();
    signal.addEventListener("abort", abort, { once: true });
    promise.then(resolve, reject).finally(() =>
      signal.removeEventListener("abort", abort)
    );
  });
}

function isAbort(error: unknown): boolean {
  return (error instanceof CredentialsError && error.code === "aborted") ||
    (error as { name?: string })?.name === "AbortError";
}
