/**
 * What a running query reports through `onProgress`: the job's state, the
 * time since it was sent, bytes processed, rows fetched, and each retry
 * with its reason — what `bq` shows while it waits.
 */

/** A retry that is about to happen, and why. */
export interface RetryNotice {
  /** 1 for the first retry. */
  attempt: number;
  /** How many retries the policy allows. */
  retries: number;
  /** Why, e.g. `HTTP 503 backendError` or `network: connection refused`. */
  reason: string;
  /** The wait before the retry. */
  delayMs: number;
}

/**
 * One progress report of a query; see `QueryOptions.onProgress`.
 *
 * @example
 * ```ts ignore
 * await dw.query(sql, {
 *   onProgress: (p) => console.error(p.state, p.elapsedMs, p.rowsFetched, p.retry?.reason),
 * });
 * ```
 */
export interface QueryProgress {
  /**
   * `PENDING` until BigQuery has taken the query, `RUNNING` while its job
   * runs, `DONE` once the result is ready (its pages may still be read).
   */
  state: "PENDING" | "RUNNING" | "DONE";
  /** Milliseconds since the query was sent. */
  elapsedMs: number;
  /** The job, once BigQuery names one. */
  jobId?: string;
  /** Bytes the query processed, once BigQuery says. */
  bytesProcessed?: number;
  /** Rows fetched so far. */
  rowsFetched: number;
  /** Rows of the whole result, once known. */
  totalRows?: number;
  /** Set on the report of a retry about to happen. */
  retry?: RetryNotice;
}

/** Keeps a query's progress and hands each change to `listener`. */
export class ProgressReporter {
  readonly #listener?: (progress: QueryProgress) => void;
  readonly #start = Date.now();
  #current: Omit<QueryProgress, "elapsedMs"> = {
    state: "PENDING",
    rowsFetched: 0,
  };

  constructor(listener?: (progress: QueryProgress) => void) {
    this.#listener = listener;
  }

  /** Merges `change` in and reports it (a listener that throws is ignored). */
  report(change: Partial<Omit<QueryProgress, "elapsedMs">>): void {
    if (!this.#listener) return;
    const { retry, ...rest } = change;
    this.#current = { ...this.#current, ...rest };
    try {
      this.#listener({
        ...this.#current,
        elapsedMs: Date.now() - this.#start,
        ...(retry ? { retry } : {}),
      });
    } catch {
      // A progress display must never break the query.
    }
  }

  /** A callback for retries, or `undefined` when nobody listens. */
  get onRetry(): ((retry: RetryNotice) => void) | undefined {
    return this.#listener ? (retry) => this.report({ retry }) : undefined;
  }
}
