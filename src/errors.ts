/**
 * What went wrong, in words a program can branch on:
 *
 * - `login_required`: no usable token and a login may not run here (CI, no TTY,
 *   `interactive: false`).
 * - `invalid_credentials`: the server refused the credentials or token.
 * - `invalid_input`: a file, option or argument given by the caller is wrong.
 * - `bad_response`: a server answered with something this library cannot use.
 * - `server_error`: a server answered with an HTTP error.
 * - `network`: a server could not be reached.
 * - `timeout`: a server or the person logging in did not answer in time.
 * - `aborted`: the caller's `AbortSignal` fired.
 */
export type CredentialsErrorCode =
  | "login_required"
  | "invalid_credentials"
  | "invalid_input"
  | "bad_response"
  | "server_error"
  | "network"
  | "timeout"
  | "aborted";

/** Details attached to a {@linkcode CredentialsError}. */
export interface CredentialsErrorOptions {
  /** What went wrong; see {@linkcode CredentialsErrorCode}. */
  code?: CredentialsErrorCode;
  /** HTTP status of the response that caused the error. */
  status?: number;
  /** The server's `error` field (OAuth error code), when it sent one. */
  error?: string;
  /** The server's `error_description`, when it sent one. */
  errorDescription?: string;
  /** The URL (without query) of the endpoint that failed. */
  endpoint?: string;
  /** The underlying error. Never a value that holds a token or a secret. */
  cause?: unknown;
}

/**
 * Every failure to obtain or use CARTO credentials. The message says what to
 * do and never contains a token or a secret.
 *
 * @example Telling a refused secret from a network failure
 * ```ts
 * import { CartoAuth, CredentialsError } from "@carto/auth";
 *
 * try {
 *   const auth = await CartoAuth.fromM2M("./carto_credentials.json");
 *   await auth.getAccessToken();
 * } catch (e) {
 *   if (e instanceof CredentialsError && e.code === "invalid_credentials") {
 *     console.error("Check client_id and client_secret:", e.message);
 *   } else throw e;
 * }
 * ```
 */
export class CredentialsError extends Error {
  /** What went wrong; see {@linkcode CredentialsErrorCode}. */
  readonly code?: CredentialsErrorCode;
  /** HTTP status of the response that caused the error. */
  readonly status?: number;
  /** The server's OAuth `error` code. */
  readonly error?: string;
  /** The server's `error_description`. */
  readonly errorDescription?: string;
  /** The endpoint (URL without query) that failed. */
  readonly endpoint?: string;

  /** Creates an error; `options` carry what the server said. */
  constructor(message: string, options: CredentialsErrorOptions = {}) {
    super(
      message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "CredentialsError";
    this.code = options.code;
    this.status = options.status;
    this.error = options.error;
    this.errorDescription = options.errorDescription;
    this.endpoint = options.endpoint;
  }
}
