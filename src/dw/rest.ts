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

/**
 * The largest BigQuery answer read. BigQuery pages hold up to 20 MB of data
 * (jobs.getQueryResults; 10 MB for jobs.query), measured in its internal
 * representation, and one row up to 100 MB; JSON adds `{"v":…}` around every
 * cell. 256 MiB is 12× the page limit and 2.5× the largest row, which no
 * real page reaches, while an answer from a wrong URL still cannot fill
 * memory.
 */
export const MAX_ANSWER_BYTES = 256 * 1024 * 1024;

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
    return (await this.callSized<T>(request)).body;
  }

  /** {@linkcode call}, with the length of the answer's JSON text (to size the next page by). */
  async callSized<T>(
    request: RestRequest,
  ): Promise<{ body: T; chars: number }> {
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
          maxBytes: MAX_ANSWER_BYTES,
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
      if (response.ok) {
        return {
          body: parseJson<T>(text, response, request),
          chars: text.length,
        };
      }
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
  // send()'s one bad_response: an answer over MAX_ANSWER_BYTES.
  const advice = error.code === "bad_response"
    ? " If the URL is right, ask for fewer rows per page (maxResults)."
    : "";
  return new BigQueryError(error.message + advice, {
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
