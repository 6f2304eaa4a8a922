import { DEFAULT_ENDPOINTS } from "../endpoints.ts";
import {
  DEFAULT_CREDENTIALS_TTL_MS,
  type DwCredentials,
  DwCredentialsCache,
} from "./credentials.ts";
import { compileRowsDecoder, type Row } from "./decode.ts";
import { checkQueryOptions } from "./options.ts";
import { encodeParams, type ParamTypes, type QueryParams } from "./params.ts";
import {
  type JobCreationMode,
  QueryRun,
  type RunSettings,
} from "./query_run.ts";
import type { QueryProgress } from "./progress.ts";
import { BigQueryRest } from "./rest.ts";
import { type RetryOptions, retryPolicy } from "./retry.ts";
import type { TableFieldSchema } from "./types.ts";
import type { Int64Mode } from "./values.ts";

export type { DwCredentials } from "./credentials.ts";
export {
  BigQueryError,
  type BigQueryErrorOptions,
  type QueryPosition,
} from "./errors.ts";
export type { Row } from "./decode.ts";
export type { ParamType } from "./param_types.ts";
export type { ParamTypes, QueryParams } from "./params.ts";
export type { JobCreationMode } from "./query_run.ts";
export type { QueryProgress, RetryNotice } from "./progress.ts";
export type { RetryOptions } from "./retry.ts";
export type {
  ErrorProto,
  QueryParameter,
  QueryParameterType,
  QueryParameterValue,
  TableFieldSchema,
} from "./types.ts";
export type { Int64Mode, RangeValue } from "./values.ts";

/**
 * Options of {@linkcode CartoDwClient}. `CartoAuth.getCartoDwClient(options)`
 * fills in `credentials`, `initialCredentials`, `fetch` and `endpoint`; the
 * others are yours.
 *
 * @example Tuning the client made by CartoAuth
 * ```ts ignore
 * const dw = await auth.getCartoDwClient({
 *   location: "US",
 *   int64: "bigint",
 *   retry: { retries: 3 },
 * });
 * ```
 */
export interface CartoDwClientOptions {
  /**
   * Fetches fresh DW credentials (on 401 and before the token expires):
   * other than `replaced`, the ones BigQuery refused or that are too old.
   */
  credentials: (replaced?: DwCredentials) => Promise<DwCredentials>;
  /** Credentials already fetched, used until they need renewing. */
  initialCredentials?: DwCredentials;
  /** Transport, default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** BigQuery REST root, default `https://bigquery.googleapis.com/bigquery/v2`. */
  endpoint?: string;
  /**
   * Renew the DW token this long after fetching it, default 50 minutes
   * (CARTO's tokens last about an hour and do not say when they expire).
   */
  credentialsTtlMs?: number;
  /** Retries of transient failures; see {@linkcode RetryOptions}. */
  retry?: RetryOptions;
  /** HTTP timeout of each attempt, on top of the time BigQuery is asked to wait; default 30 s. */
  requestTimeoutMs?: number;
  /** First wait between polls of a running job, doubled up to 1 s; default 100 ms. */
  pollIntervalMs?: number;
  /** Default {@linkcode QueryOptions.location}. */
  location?: string;
  /** Default {@linkcode QueryOptions.int64}. */
  int64?: Int64Mode;
  /** Default {@linkcode QueryOptions.labels}, merged with each query's. */
  labels?: Record<string, string>;
}

/**
 * Options of {@linkcode CartoDwClient.query}, {@linkcode CartoDwClient.queryRows}
 * and {@linkcode CartoDwClient.dryRun}.
 *
 * @example
 * ```ts ignore
 * const controller = new AbortController();
 * const { rows } = await dw.query("SELECT * FROM t WHERE day = @day", {
 *   params: { day: "2024-04-08" },
 *   types: { day: "DATE" },
 *   maximumBytesBilled: 10_000_000_000,
 *   signal: controller.signal, // abort() cancels the BigQuery job
 * });
 * ```
 */
export interface QueryOptions {
  /** Named (object, `@name`) or positional (array, `?`) query parameters; see {@linkcode QueryParams}. */
  params?: QueryParams;
  /** Types of parameters that cannot be inferred (null, empty arrays, DATE, NUMERIC, JSON, …). */
  types?: ParamTypes;
  /** Where the job runs, e.g. `US`; default where BigQuery puts it. */
  location?: string;
  /**
   * Rows per page. Default: 10,000 in the first page, then as many as made
   * about 8 MiB of JSON in the page before, so that pages stay small whatever
   * the row width. BigQuery also ends a page at 20 MB of data (10 MB for the
   * first), counted before JSON encoding, which makes it larger.
   */
  maxResults?: number;
  /**
   * How long BigQuery waits for the job in each call before answering
   * "not complete yet" (its `timeoutMs`, default 10 s); the client then
   * polls. For an overall deadline use `signal: AbortSignal.timeout(ms)`.
   */
  timeoutMs?: number;
  /** Aborting rejects the call and cancels the BigQuery job (jobs.cancel). */
  signal?: AbortSignal;
  /** How INT64 values are returned, default `"number"`; see {@linkcode Int64Mode}. */
  int64?: Int64Mode;
  /**
   * Job labels, for billing reports: at most 64, keys and values of up to
   * 63 lowercase letters, digits, `_` or `-`, keys starting with a letter.
   */
  labels?: Record<string, string>;
  /**
   * Fail instead of billing more than this many bytes: a whole number up to
   * 2^63 − 1 (beyond `Number.MAX_SAFE_INTEGER`, a bigint or a decimal string).
   */
  maximumBytesBilled?: number | bigint | string;
  /** Use BigQuery's result cache, default true. */
  useQueryCache?: boolean;
  /** `JOB_CREATION_OPTIONAL` (default: short queries run without a job) or `JOB_CREATION_REQUIRED`. */
  jobCreationMode?: JobCreationMode;
  /**
   * Told as the query advances: job state, elapsed time, bytes processed,
   * rows fetched, and each retry with its reason (see
   * {@linkcode QueryProgress}); for progress displays such as the CLI's.
   */
  onProgress?: (progress: QueryProgress) => void;
}

/**
 * A query's rows and what BigQuery said about it.
 *
 * @example
 * ```ts ignore
 * const { rows, totalRows, totalBytesProcessed } = await dw.query("SELECT 1 AS n");
 * ```
 */
export interface QueryResult<T = Row> {
  /** Every row, decoded (DESIGN.md §2). */
  rows: T[];
  /** The columns. */
  schema: TableFieldSchema[];
  /** How many rows the result has. */
  totalRows: number;
  /** The job, when BigQuery created one (short queries may run without). */
  jobId?: string;
  /** The id of a query that ran without a job. */
  queryId?: string;
  /** Where the query ran. */
  location?: string;
  /** Bytes the query read. */
  totalBytesProcessed?: number;
  /** Whether the result came from BigQuery's cache. */
  cacheHit?: boolean;
  /** Rows changed by a DML statement. */
  numDmlAffectedRows?: number;
}

/**
 * What a query says about itself: a {@linkcode QueryResult} without its rows.
 *
 * @example
 * ```ts ignore
 * const { schema, totalRows, jobId } = await dw.queryRows("SELECT * FROM t").meta();
 * ```
 */
export type QueryMeta = Omit<QueryResult<never>, "rows">;

/**
 * What {@linkcode CartoDwClient.queryRows} returns: an async generator of
 * rows, and the query's metadata.
 *
 * @example
 * ```ts ignore
 * const stream = dw.queryRows("SELECT * FROM t");
 * console.log((await stream.meta()).schema.map((c) => c.name));
 * for await (const row of stream) console.log(row);
 * ```
 */
export interface QueryRowStream<T = Row>
  extends AsyncGenerator<T, void, undefined> {
  /**
   * Runs the query, if reading the rows has not already, and resolves once
   * it is complete with everything but the rows: schema, `totalRows`,
   * `jobId`, `location`, `totalBytesProcessed`, ….
   */
  meta(): Promise<QueryMeta>;
}

/**
 * What a dry run says about a query.
 *
 * @example
 * ```ts ignore
 * const { totalBytesProcessed } = await dw.dryRun("SELECT * FROM big_table");
 * ```
 */
export interface DryRunResult {
  /** Bytes the query would read. */
  totalBytesProcessed: number;
  /** The columns it would return. */
  schema: TableFieldSchema[];
}

/**
 * A BigQuery client for the CARTO Data Warehouse on plain `fetch`: it runs
 * in Deno, Bun, Node and edge workers. Queries run with jobs.query (one
 * round trip for short queries), poll while the job runs, read every page,
 * and decode rows with a decoder compiled once per result. Transient
 * failures are retried with backoff; the DW token is renewed before it
 * expires and when BigQuery refuses it. Failures are
 * {@linkcode BigQueryError}s.
 *
 * @example
 * ```ts ignore
 * import { CartoAuth } from "@carto/auth";
 *
 * const auth = await CartoAuth.fromM2M("./carto_credentials.json");
 * const dw = await auth.getCartoDwClient();
 * const { rows } = await dw.query("SELECT @n + 1 AS n", { params: { n: 1 } });
 * for await (const row of dw.queryRows("SELECT * FROM big_table")) {
 *   console.log(row);
 * }
 * ```
 */
export class CartoDwClient {
  readonly #options: CartoDwClientOptions;
  readonly #credentials: DwCredentialsCache;
  readonly #rest: BigQueryRest;

  /** A client over `options.credentials`; usually made by `CartoAuth.getCartoDwClient()`. */
  constructor(options: CartoDwClientOptions) {
    this.#options = options;
    this.#credentials = new DwCredentialsCache(
      options.credentials,
      options.initialCredentials,
      options.credentialsTtlMs ?? DEFAULT_CREDENTIALS_TTL_MS,
    );
    this.#rest = new BigQueryRest({
      credentials: this.#credentials,
      endpoint: (options.endpoint ?? DEFAULT_ENDPOINTS.bigquery).replace(
        /\/+$/,
        "",
      ),
      fetch: options.fetch,
      retry: retryPolicy(options.retry),
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    });
  }

  /** The DW (BigQuery) project id; undefined until credentials were fetched. */
  get project(): string | undefined {
    return this.#credentials.projectId;
  }

  /**
   * Runs `sql` and returns every row of every page.
   *
   * @example
   * ```ts ignore
   * const { rows } = await dw.query<{ n: number }>("SELECT @n AS n", { params: { n: 1 } });
   * rows[0].n; // 1
   * ```
   */
  async query<T = Row>(
    sql: string,
    options: QueryOptions = {},
  ): Promise<QueryResult<T>> {
    const run = this.#run(sql, options);
    const meta = await run.start();
    const decode = compileRowsDecoder(meta.schema, {
      int64: options.int64 ?? this.#options.int64,
    });
    const pages: Row[][] = [];
    for await (const page of run.pages(decode)) pages.push(page);
    const rows = pages.length === 1 ? pages[0] : pages.flat();
    return { rows: rows as T[], ...meta };
  }

  /**
   * Runs `sql` and yields its rows one by one, page by page: the next page
   * is fetched while the current one is consumed, and at most two pages are
   * held, so results larger than memory stream through. Stopping early
   * (`break`) stops the fetching. `meta()` gives the schema, `totalRows`,
   * the job id, … before or while the rows are read.
   *
   * @example
   * ```ts ignore
   * const stream = dw.queryRows("SELECT * FROM big_table", { maxResults: 10_000 });
   * const { schema, totalRows } = await stream.meta();
   * for await (const row of stream) {
   *   console.log(row);
   * }
   * ```
   */
  queryRows<T = Row>(
    sql: string,
    options: QueryOptions = {},
  ): QueryRowStream<T> {
    // Started by whichever comes first, meta() or the first row; a wrong
    // parameter rejects there rather than throwing here.
    const begin = async () => {
      const run = this.#run(sql, options);
      return { run, meta: await run.start() };
    };
    let started: ReturnType<typeof begin> | undefined;
    const start = () => started ??= begin();
    const int64 = options.int64 ?? this.#options.int64;
    async function* rows(): AsyncGenerator<T, void, undefined> {
      const { run, meta } = await start();
      const decode = compileRowsDecoder(meta.schema, { int64 });
      for await (const page of run.pages(decode)) {
        for (const row of page) yield row as T;
        page.length = 0; // its rows are the consumer's now, or garbage
      }
    }
    return Object.assign(rows(), {
      meta: () => start().then(({ meta }) => meta),
    });
  }

  /**
   * Validates `sql` and estimates it without running it: the bytes it would
   * read and the columns it would return.
   *
   * @example
   * ```ts ignore
   * const { totalBytesProcessed, schema } = await dw.dryRun("SELECT * FROM t");
   * ```
   */
  async dryRun(
    sql: string,
    options: QueryOptions = {},
  ): Promise<DryRunResult> {
    const response = await this.#run(sql, options).dryRun();
    return {
      totalBytesProcessed: Number(response.totalBytesProcessed ?? 0),
      schema: response.schema?.fields ?? [],
    };
  }

  #run(sql: string, options: QueryOptions): QueryRun {
    const defaults = this.#options;
    checkQueryOptions(sql, options, defaults);
    const labels = defaults.labels || options.labels
      ? { ...defaults.labels, ...options.labels }
      : undefined;
    const { params, types, int64: _, ...rest } = options;
    const settings: RunSettings = {
      ...rest,
      params: encodeParams(params, types),
      location: options.location ?? defaults.location,
      labels,
      pollIntervalMs: defaults.pollIntervalMs ?? 100,
    };
    return new QueryRun(this.#rest, sql, settings);
  }
}
