/**
 * What the login service refused, in words a person can act on. A refusal is
 * never answered with a bare "log in again": the same login would be refused
 * the same way.
 */
import { CredentialsError, type CredentialsErrorCode } from "../errors.ts";

/** Where the refusal came from: the browser's callback or the token endpoint. */
export type RefusalSource = "login" | "token";

/** Extra details of the error: the HTTP status and endpoint of a token answer. */
export interface RefusalDetails {
  status?: number;
  endpoint?: string;
}

/** OAuth `error` codes that mean "the server will not give you this", not "try again". */
const REFUSALS = new Set([
  "access_denied",
  "invalid_scope",
  "unauthorized_client",
  "invalid_client",
  "consent_required",
  "login_required",
  "interaction_required",
]);

/** Whether the OAuth `error` code is a refusal (see {@linkcode loginServiceError}). */
export function isRefusal(error: string | undefined): error is string {
  return error !== undefined && REFUSALS.has(error);
}

/**
 * The error for the login service's OAuth `error` (with its `description`):
 * for a refusal, what was refused and what to do about it.
 *
 * @example
 * ```ts ignore
 * loginServiceError("access_denied", "User did not authorize the request", "login");
 * // CredentialsError: The login was refused: access to CARTO was declined (or the
 * // login cancelled) in the browser (access_denied: User did not authorize …). …
 * ```
 */
export function loginServiceError(
  error: string,
  description: string | undefined,
  source: RefusalSource,
  details: RefusalDetails = {},
): CredentialsError {
  const said = description ? `${error}: ${description}` : error;
  const [what, todo, code] = explain(error, description ?? "", source);
  return new CredentialsError(`${what} (${said}). ${todo}`, {
    code,
    error,
    errorDescription: description,
    status: details.status,
    endpoint: details.endpoint,
  });
}

function explain(
  error: string,
  description: string,
  source: RefusalSource,
): [what: string, todo: string, code: CredentialsErrorCode] {
  const aboutOrg = /organi[sz]ation/i.test(description);
  if (aboutOrg && (error === "access_denied" || error === "invalid_request")) {
    return [
      "CARTO's login service refused the organization of this login",
      "Log in with an organization your account belongs to (the `org` option, " +
      "`carto-auth login --org`), or without one.",
      error === "access_denied" ? "invalid_credentials" : "invalid_input",
    ];
  }
  switch (error) {
    case "access_denied":
      return /consent|authori[sz]e|abort|cancel|declin|denied by/i.test(
          description,
        )
        ? [
          "The login was refused: access to CARTO was declined (or the login cancelled) " +
          "in the browser",
          "Nothing was saved. To use CARTO from here, log in and allow the access.",
          "invalid_credentials",
        ]
        : [
          "CARTO's login service refused access to this account",
          "The account may not have access to CARTO: ask your CARTO administrator, " +
          "or log in with another account.",
          "invalid_credentials",
        ];
    case "invalid_scope":
      return [
        "CARTO's login service refused the access this library asks for " +
        '(scope "offline_access", which allows renewing the login)',
        "Offline access is not allowed for this login client here; logging in again " +
        "would be refused the same way. Ask your CARTO administrator, or use M2M " +
        "credentials.",
        "invalid_credentials",
      ];
    case "unauthorized_client":
    case "invalid_client":
      return [
        source === "token"
          ? "CARTO's login service does not allow this client to obtain tokens this way"
          : "CARTO's login service does not allow this login client",
        "This is a setting of the login service, not of your account: report it to " +
        "your CARTO administrator or CARTO support.",
        "invalid_credentials",
      ];
    case "consent_required":
    case "login_required":
    case "interaction_required":
      return [
        "CARTO's login service needs you to log in in a browser",
        "Run `carto-auth login` (or CartoAuth.fromOAuth()) where a person can answer.",
        "login_required",
      ];
    case "server_error":
    case "temporarily_unavailable":
      return [
        "CARTO's login service could not complete the login",
        "The service may be down; try again later.",
        "server_error",
      ];
    default:
      return [
        "CARTO's login service could not complete the login",
        "This is not something your account can fix: report it to CARTO support " +
        "with this message.",
        "bad_response",
      ];
  }
}
