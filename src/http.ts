import { CredentialsError } from "./errors.ts";

/** How requests to CARTO, Auth0 and BigQuery are sent. */
export interface HttpOptions {
  /** Transport; default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Per-attempt timeout, default 30 s; it also bounds reading the body. */
  timeoutMs?: number;
  /** Aborts the request and any retry wait. */
  signal?: AbortSignal;
  /** Extra attempts after a transient failure (429, 5xx, network), default 2. */
  retries?: number;
  /** Largest body accepted, default 16 MiB; a larger one is an error, not a memory spike. */
  maxBytes?: number;
  /**
   * Read the body within the attempt (default true): the timeout then covers
   * the body and a connection dropped mid-body is retried. `false` returns as
   * soon as the headers arrive, with the body left to stream.
   */
  buffer?: boolean;
  /**
   * `false` for a request the server must never get twice (an authorization
   * code, a rotating refresh token): only failures that show it was not
   * processed are retried (408, 429, a connection that could not be opened).
   */
  idempotent?: boolean;
}

/** Default per-request timeout. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Default largest response body. */
export const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
/** Answers that say the request was not processed. */
const UNPROCESSED_STATUS = new Set([408, 429]);
const MAX_BACKOFF_MS = 5_000;

/** `origin + pathname` of a URL: what error messages show (a query may hold SQL). */
export function endpointOf(url: string | URL): string {
  const u = new URL(url);
  return u.origin + u.pathname;
}

/**
 * `fetch` with a timeout, the caller's signal, a size limit, and bounded
 * retries with exponential backoff and jitter for transient failures (429,
 * 5xx, a connection that fails or drops mid-body). The body is read within
 * the attempt, so the response returned is complete. Network failures,
 * timeouts and oversized bodies become a {@linkcode CredentialsError} naming
 * `what` and the endpoint; an HTTP error response is returned for the caller
 * to read.
 */
export async function send(
  what: string,
  url: string | URL,
  init: RequestInit = {},
  options: HttpOptions = {},
): Promise<Response> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const canRepeat = !(init.body instanceof ReadableStream);
  const retries = canRepeat ? options.retries ?? 2 : 0;
  const endpoint = endpointOf(url);
  const once = options.idempotent === false;
  const retryable = once ? UNPROCESSED_STATUS : RETRYABLE_STATUS;
  for (let attempt = 0;; attempt++) {
    options.signal?.throwIfAborted?.();
    const timeout = new AbortController();
    const timer = setTimeout(
      () =>
        timeout.abort(
          new DOMException("The request timed out.", "TimeoutError"),
        ),
      timeoutMs,
    );
    const signal = options.signal
      ? AbortSignal.any([options.signal, timeout.signal])
      : timeout.signal;
    let response: Response;
    try {
      response = await doFetch(url, { ...init, signal });
      if (options.buffer !== false) {
        response = await buffered(response, maxBytes);
      }
    } catch (cause) {
      if (cause instanceof TooLarge) {
        throw new CredentialsError(
          `${what} (${endpoint}) sent more than ${
            formatBytes(maxBytes)
          }, which is not ` +
            `an answer this library expects. Check the URL.`,
          { code: "bad_response", endpoint },
        );
      }
      const failure = transportError(
        what,
        String(url),
        cause,
        timeoutMs,
        options.signal,
      );
      if (
        failure.code !== "network" || attempt >= retries ||
        (once && !neverSent(cause))
      ) throw failure;
      await backoff(attempt, undefined, options.signal);
      continue;
    } finally {
      clearTimeout(timer);
    }
    if (!retryable.has(response.status) || attempt >= retries) {
      return response;
    }
    await backoff(attempt, response.headers.get("retry-after"), options.signal);
  }
}

class TooLarge extends Error {}

/** Error codes (Node, Bun) of a connection that was never opened. */
const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

/**
 * Whether a failed `fetch` certainly never sent the request: the connection
 * could not be opened (refused, no such host). Anything else — a reset, a
 * timeout — may have reached the server.
 */
export function neverSent(cause: unknown): boolean {
  for (let e = cause, depth = 0; e && depth < 3; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === "string" && CONNECT_CODES.has(code)) return true;
    // Deno: "error sending request …: client error (Connect): …".
    if (typeof message === "string" && message.includes("(Connect)")) {
      return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * A copy of a transport error and its causes in which no URL keeps its query:
 * runtimes put the request URL in them (Deno in `cause.cause`, Bun in
 * `path`), and a query may hold SQL. Only name, message, code and stack are kept.
 */
function withoutQuery(error: unknown, url: string, depth = 0): unknown {
  const scrub = (text: string) =>
    text.replaceAll(url, endpointOf(url))
      .replace(/(\bhttps?:\/\/[^\s?#"'<>]*)[?#][^\s"'<>]*/gi, "$1");
  if (!(error instanceof Error)) return scrub(String(error));
  const copy = new (error instanceof TypeError ? TypeError : Error)(
    scrub(error.message),
    error.cause === undefined || depth > 3
      ? undefined
      : { cause: withoutQuery(error.cause, url, depth + 1) },
  );
  copy.name = error.name;
  copy.stack = scrub(error.stack ?? "");
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") Object.assign(copy, { code });
  return copy;
}

/** The same response with its body read (at most `maxBytes`) into memory. */
async function buffered(
  response: Response,
  maxBytes: number,
): Promise<Response> {
  const declared = Number(response.headers.get("content-length"));
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new TooLarge();
  }
  let body: Uint8Array<ArrayBuffer> | null = null;
  if (response.body) {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of response.body) {
      size += chunk.length;
      if (size > maxBytes) throw new TooLarge();
      chunks.push(chunk);
    }
    body = new Uint8Array(size);
    let offset = 0;
    for (const chunk of chunks) {
      body.set(chunk, offset);
      offset += chunk.length;
    }
  }
  const nullBody = response.status === 204 || response.status === 304 ||
    response.status < 200;
  const copy = new Response(nullBody ? null : body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
  // Error messages name the endpoint from `url`, which a constructed Response lacks.
  Object.defineProperty(copy, "url", { value: response.url });
  return copy;
}

function formatBytes(n: number): string {
  return n >= 1 << 20
    ? `${Math.round(n / (1 << 20))} MiB`
    : `${Math.round(n / 1024)} KiB`;
}

function transportError(
  what: string,
  url: string,
  cause: unknown,
  timeoutMs: number,
  callerSignal?: AbortSignal,
): CredentialsError {
  const endpoint = endpointOf(url);
  if (callerSignal?.aborted) {
    return new CredentialsError(`Request to ${what} was aborted.`, {
      code: "aborted",
      endpoint,
      cause: callerSignal.reason,
    });
  }
  const name = (cause as { name?: string })?.name;
  if (name === "TimeoutError" || name === "AbortError") {
    return new CredentialsError(
      `${what} (${endpoint}) did not answer within ${
        formatSeconds(timeoutMs)
      }. ` +
        `Check your network connection and try again.`,
      { code: "timeout", endpoint },
    );
  }
  const scrubbed = withoutQuery(cause, url);
  const reason = scrubbed instanceof Error
    ? (scrubbed.message || scrubbed.name)
    : String(scrubbed);
  return new CredentialsError(
    `Could not reach ${what} (${endpoint}): ${reason}. Check your network connection.`,
    { code: "network", endpoint, cause: scrubbed },
  );
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

async function backoff(
  attempt: number,
  retryAfter: string | null | undefined,
  signal?: AbortSignal,
): Promise<void> {
  let ms = Math.min(MAX_BACKOFF_MS, 100 * 2 ** attempt);
  ms = ms / 2 + Math.random() * ms / 2;
  const seconds = retryAfter ? Number(retryAfter) : NaN;
  if (Number.isFinite(seconds) && seconds >= 0) {
    ms = Math.min(MAX_BACKOFF_MS, seconds * 1000);
  }
  await sleep(ms, signal, () =>
    new CredentialsError("Request was aborted.", {
      code: "aborted",
      cause: signal?.reason,
    }));
}

/** Waits `ms`; rejects with `aborted()` as soon as `signal` fires. */
export function sleep(
  ms: number,
  signal: AbortSignal | undefined,
  aborted: () => Error,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(aborted());
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", abort);
      resolve();
    }
    function abort() {
      clearTimeout(timer);
      reject(aborted());
    }
    signal?.addEventListener("abort", abort, { once: true });
  });
}
