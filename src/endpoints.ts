import { CredentialsError } from "./errors.ts";

/** Base URLs of the services this library talks to. */
export interface Endpoints {
  /** Auth0 tenant: `/authorize` and `/oauth/token` live under it. */
  auth: string;
  /** CARTO accounts service: `/accounts` lives under it. */
  accounts: string;
  /** BigQuery REST root, `…/bigquery/v2`. */
  bigquery: string;
}

/**
 * The production endpoints.
 *
 * @example
 * ```ts
 * import { DEFAULT_ENDPOINTS } from "@carto/auth";
 * console.log(DEFAULT_ENDPOINTS.auth); // https://auth.carto.com
 * ```
 */
export const DEFAULT_ENDPOINTS: Readonly<Endpoints> = Object.freeze({
  auth: "https://auth.carto.com",
  accounts: "https://accounts.app.carto.com",
  bigquery: "https://bigquery.googleapis.com/bigquery/v2",
});

/** Public client id of CARTO's interactive login (registered with Auth0). */
export const OAUTH_CLIENT_ID = "0dxb8HR3ATXCxJiPOJVHsLoHoAtbRX6u";
/** Audience of every grant. */
export const AUDIENCE = "carto-cloud-native-api";
/** Where the paste flow sends the browser: the page shows the code. */
export const PASTE_REDIRECT_URI = "https://app.carto.com/auth/token";
/** Where the browser goes after a loopback login. */
export const LOGIN_SUCCESS_URL = "https://app.carto.com/auth/success";
/** Where the browser goes after a failed loopback login. */
export const LOGIN_ERROR_URL = "https://app.carto.com/auth/error";
/** The loopback redirect URI registered with Auth0 is `http://localhost:<port>/callback/`. */
export const DEFAULT_REDIRECT_PORT = 10000;

/** The redirect URI of a loopback login on `port`. */
export function loopbackRedirectUri(port: number): string {
  return `http://localhost:${port}/callback/`;
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** True for `localhost`, `127.0.0.1` and `::1`: the only hosts plain http may reach. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase());
}

/**
 * Parses `url` and insists on https, allowing http only for loopback hosts
 * (the fake CARTO). `what` names the URL in the error.
 */
export function parseServiceUrl(url: string, what: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CredentialsError(
      `${what} is not a valid URL: ${JSON.stringify(url)}.`,
      {
        code: "invalid_input",
      },
    );
  }
  if (parsed.username || parsed.password) {
    throw new CredentialsError(
      `${what} must not contain a user name or password.`,
      {
        code: "invalid_input",
      },
    );
  }
  const secure = parsed.protocol === "https:" ||
    (parsed.protocol === "http:" && isLoopbackHost(parsed.hostname));
  if (!secure) {
    throw new CredentialsError(
      `${what} must use https (plain http is only allowed for localhost): ${parsed.origin}.`,
      { code: "invalid_input" },
    );
  }
  return parsed;
}

/** Validates a base URL and drops a trailing slash, so paths can be appended. */
export function normalizeBaseUrl(url: string, what: string): string {
  const parsed = parseServiceUrl(url, what);
  if (parsed.search || parsed.hash) {
    throw new CredentialsError(
      `${what} must not have a query or fragment: ${parsed.origin}.`,
      {
        code: "invalid_input",
      },
    );
  }
  return parsed.href.replace(/\/+$/, "");
}

/** The defaults with `overrides` applied, each validated. */
export function resolveEndpoints(
  overrides: Partial<Endpoints> = {},
): Endpoints {
  return {
    auth: normalizeBaseUrl(
      overrides.auth ?? DEFAULT_ENDPOINTS.auth,
      "endpoints.auth",
    ),
    accounts: normalizeBaseUrl(
      overrides.accounts ?? DEFAULT_ENDPOINTS.accounts,
      "endpoints.accounts",
    ),
    bigquery: normalizeBaseUrl(
      overrides.bigquery ?? DEFAULT_ENDPOINTS.bigquery,
      "endpoints.bigquery",
    ),
  };
}
