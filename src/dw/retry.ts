/**
 * When and how long the client waits before trying a BigQuery request
 * again: bounded exponential backoff with jitter, and Retry-After honoured.
 */
import { sleep as abortableSleep } from "../http.ts";
import { BigQueryError, RETRYABLE_REASONS } from "./errors.ts";

/**
 * How the client retries transient failures: HTTP 408, 429, 500, 502, 503,
 * 504, network errors, and the reasons `rateLimitExceeded`, `backendError`
 * and `internalError`.
 *
 * @example Fewer, quicker retries
 * ```ts ignore
 * const dw = await auth.getCartoDwClient({ retry: { retries: 2, initialDelayMs: 100 } });
 * ```
 */
export interface RetryOptions {
  /** Attempts after the first, default 2 (the README's promise: at most twice). */
  retries?: number;
  /** Wait before the first retry, doubled each time (with jitter), default 500 ms. */
  initialDelayMs?: number;
  /** Longest wait, also for Retry-After, default 20 s. */
  maxDelayMs?: number;
}

/** The retry settings with every default filled in. */
export type RetryPolicy = Required<RetryOptions>;

/** Fills in the defaults of `options`. */
export function retryPolicy(options: RetryOptions = {}): RetryPolicy {
  return {
    retries: options.retries ?? 2,
    initialDelayMs: options.initialDelayMs ?? 500,
    maxDelayMs: options.maxDelayMs ?? 20_000,
  };
}

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** Whether an HTTP error with these reasons is worth another attempt. */
export function isRetryable(
  status: number,
  reasons: readonly string[],
): boolean {
  return RETRYABLE_STATUS.has(status) ||
    reasons.some((r) => RETRYABLE_REASONS.has(r));
}

/**
 * The wait before retry number `attempt` (0 for the first): the exponential
 * delay with "equal jitter" (half fixed, half random, so that many clients
 * do not retry in step), or the server's Retry-After, capped.
 */
export function retryDelay(
  policy: RetryPolicy,
  attempt: number,
  retryAfter?: string | null,
): number {
  const seconds = retryAfter ? Number(retryAfter) : NaN;
  if (Number.isFinite(seconds) && seconds >= 0) {
    return Math.min(policy.maxDelayMs, seconds * 1000);
  }
  const ms = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** attempt);
  return ms / 2 + Math.random() * (ms / 2);
}

/** Waits `ms`; rejects with an `aborted` error as soon as `signal` fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return abortableSleep(ms, signal, () => abortedError(signal!));
}

/** The error a query rejects with when its signal fires. */
export function abortedError(
  signal: AbortSignal,
  jobId?: string,
  cancelled?: boolean,
): BigQueryError {
  const job = !jobId
    ? ""
    : cancelled
    ? ` BigQuery job ${jobId} was cancelled.`
    : ` BigQuery job ${jobId} could not be cancelled; it may still run.`;
  return new BigQueryError(`The query was aborted.${job}`, {
    code: "aborted",
    cause: signal.reason,
    jobId,
  });
}
