/**
 * One BigQuery REST call: the DW token in the header, bounded retries of
 * transient failures, one credentials renewal on 401, and BigQuery's error
 * answers turned into {@linkcode BigQueryError}s.
 */
import { CredentialsError } from "../errors.ts";
import { endpointOf, send } from "../http.ts";
import type { DwCredentialsCache } from "./credentials.ts";
import {
  BigQueryError,
  bigQueryHttpError,
  type ErrorContext,
  parseErrorBody,
} from "./errors.ts";
import type { RetryNotice } from "./progress.ts";
import { isRetryable, retryDelay, type RetryPolicy, sleep } from "./retry.ts";

/** What a {@linkcode BigQueryRest} needs. */
export interface RestOptions {
  credentials: DwCredentialsCache;
  endpoint: string;
  fetch?: typeof fetch;
  retry: RetryPolicy;
  /** Per-attempt HTTP timeout on top of the time BigQuery is asked to wait. */
  requestTimeoutMs: number;
}

/** One request, relative to `/projects/{project}`. */
export interface RestRequest {
  method: "GET" | "POST";
  /** e.g. `/queries` or `/queries/{jobId}`. */
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  /** How long BigQuery may hold the request open (its `timeoutMs`). */
  serverWaitMs?: number;
  /** Attempts after the first, instead of the client's retry policy. */
  retries?: number;
  /** For error messages: what is being done, the SQL, the job. */
  context: ErrorContext;
  /** Told before each retry, with its reason (progress displays). */
  onRetry?: (retry: RetryNotice) => void;
}

/** Sends BigQuery REST requests for one DW project. */
export class BigQueryRest {
  readonly #options: RestOptions;

  constructor(options: RestOptions) {
    this.#options = options;
  }

  /** The BigQuery REST root, for messages about its answers. */
  get endpoint(): string {
    return this.#options.endpoint;
  }

  /** Sends `request` and returns the JSON answer; see the module doc. */
  async call<T>(request: RestRequest): Promise<T> {
    const { retry, requestTimeoutMs } = this.#options;
    const retries = request.retries ?? retry.retries;
    let attempt = 0;
    let renewed = false;
    for (;;) {
      const credentials = await this.#options.credentials.get();
      const url = this.#url(credentials.projectId, request);
      let response: Response;
      let text: string;
      try {
        response = await send(request.context.what, url, {
          method: request.method,
          headers: {
            authorization: `Bearer ${credentials.token}`,
            accept: "application/json",
            ...(request.body === undefined
              ? {}
              : { "content-type": "application/json" }),
          },
          body: request.body === undefined
            ? undefined
            : JSON.stringify(request.body),
        }, {
          fetch: this.#options.fetch,
          signal: request.signal,
          timeoutMs: (request.serverWaitMs ?? 0) + requestTimeoutMs,
          retries: 0, // retried here, where BigQuery's reasons are known
        });
        text = await response.text();
      } catch (error) {
        if (!isTransient(error) || attempt >= retries) {
          throw asBigQueryError(error);
        }
        const wait = retryDelay(retry, attempt++);
        request.onRetry?.({
          attempt,
          retries,
          reason: `${(error as CredentialsError).code}: ${
            (error as Error).message
          }`,
          delayMs: wait,
        });
        await sleep(wait, request.signal);
        continue;
      }
      if (response.ok) return parseJson<T>(text, response, request);
      if (response.status === 401 && !renewed) {
        // The DW token expired early or was revoked: fetch a new one, once.
        renewed = true;
        await this.#options.credentials.renew(credentials);
        continue;
      }
      const reasons = (parseErrorBody(text)?.errors ?? []).map((e) =>
        e.reason ?? ""
      );
      if (isRetryable(response.status, reasons) && attempt < retries) {
        const wait = retryDelay(
          retry,
          attempt++,
          response.headers.get("retry-after"),
        );
        request.onRetry?.({
          attempt,
          retries,
          reason: `HTTP ${response.status}${
            reasons.some((r) => r)
              ? ` ${reasons.filter((r) => r).join(", ")}`
              : ""
          }`,
          delayMs: wait,
        });
        await sleep(wait, request.signal);
        continue;
      }
      throw bigQueryHttpError(response.status, text, {
        ...request.context,
        endpoint: endpointOf(url),
        attempts: attempt + 1,
      });
    }
  }

  #url(projectId: string, request: RestRequest): string {
    const url = new URL(
      `${this.#options.endpoint}/projects/${
        encodeURIComponent(projectId)
      }${request.path}`,
    );
    for (const [key, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    // Google APIs indent their JSON unless told not to: a third more bytes to read and parse.
    url.searchParams.set("prettyPrint", "false");
    return url.href;
  }
}

/** A transport failure (network, timeout, abort) as a {@linkcode BigQueryError}, so one class covers the client. */
function asBigQueryError(error: unknown): unknown {
  if (!(error instanceof CredentialsError) || error instanceof BigQueryError) {
    return error;
  }
  return new BigQueryError(error.message, {
    code: error.code,
    status: error.status,
    endpoint: error.endpoint,
    cause: error.cause,
  });
}

/** Network failures and timeouts are worth another attempt; an abort is not. */
function isTransient(error: unknown): boolean {
  return error instanceof CredentialsError &&
    (error.code === "network" || error.code === "timeout");
}

function parseJson<T>(
  text: string,
  response: Response,
  request: RestRequest,
): T {
  try {
    const value = JSON.parse(text);
    if (value && typeof value === "object") return value as T;
  } catch {
    // reported below
  }
  const endpoint = response.url ? endpointOf(response.url) : undefined;
  throw new BigQueryError(
    `${request.context.what}${
      endpoint ? ` (${endpoint})` : ""
    } answered HTTP ${response.status} ` +
      `with something that is not a JSON object. Check the BigQuery endpoint.`,
    { code: "bad_response", status: response.status, endpoint },
  );
}
