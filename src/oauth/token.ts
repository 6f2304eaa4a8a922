import * as oauth from "oauth4webapi";
import { AUDIENCE, type Endpoints, OAUTH_CLIENT_ID } from "../endpoints.ts";
import { CredentialsError } from "../errors.ts";
import { jwtExpiration } from "../jwt.ts";
import { endpointOf, type HttpOptions, neverSent, send } from "../http.ts";
import { httpError, readJson } from "../http_answers.ts";
import { fetchOnce } from "../runtime/fetch_once.ts";
import { isRefusal, loginServiceError } from "./refusal.ts";

/** A token endpoint's answer, with `expires_in` turned into an absolute time. */
export interface TokenSet {
  accessToken: string;
  /** Unix seconds (UTC). */
  expiration: number;
  refreshToken?: string;
  scope?: string;
}

/** Where and how to reach the token endpoint. */
export interface TokenEndpointOptions {
  endpoints: Endpoints;
  http?: HttpOptions;
}

const TOKEN_ENDPOINT = "CARTO login service";

/** oauth4webapi's view of CARTO's Auth0 tenant. */
export function authorizationServer(
  endpoints: Endpoints,
): oauth.AuthorizationServer {
  return {
    issuer: `${endpoints.auth}/`,
    authorization_endpoint: `${endpoints.auth}/authorize`,
    token_endpoint: `${endpoints.auth}/oauth/token`,
    revocation_endpoint: `${endpoints.auth}/oauth/revoke`,
  };
}

/** The public client of the interactive login. */
export const publicClient: oauth.Client = { client_id: OAUTH_CLIENT_ID };

/** What a single-use grant spends: the server accepts it once. */
type SingleUse = "login code" | "refresh token";

/**
 * A token request whose answer was lost (a dropped connection, a timeout, a
 * 5xx) after it may have reached the server: its code or refresh token may
 * be spent, so it is never sent again. Keeps the `code` of the failure.
 */
export class UnansweredGrantError extends CredentialsError {
  /** What may have been spent. */
  readonly spent: SingleUse;

  /** Wraps `failure`, the transport error or HTTP error of the attempt. */
  constructor(spent: SingleUse, failure: CredentialsError) {
    const todo = spent === "login code"
      ? "Run the login again."
      : "It is forgotten: log in again (`carto-auth login`, or CartoAuth.fromOAuth()).";
    super(
      `${failure.message} A ${spent} works only once and may already be spent, ` +
        `so it was not sent again. ${todo}`,
      {
        code: failure.code,
        status: failure.status,
        endpoint: failure.endpoint,
        error: failure.error,
        errorDescription: failure.errorDescription,
        cause: failure,
      },
    );
    this.spent = spent;
  }
}

/** Sends a token request that spends `spent`: never twice (see {@linkcode UnansweredGrantError}). */
async function sendOnce(
  spent: SingleUse,
  url: string,
  init: RequestInit,
  http: HttpOptions,
): Promise<Response> {
  let response: Response;
  try {
    response = await send(TOKEN_ENDPOINT, url, init, {
      ...http,
      fetch: http.fetch ?? fetchOnce,
      idempotent: false,
    });
  } catch (e) {
    const lost = e instanceof CredentialsError &&
      (e.code === "timeout" || (e.code === "network" && !neverSent(e.cause)));
    throw lost ? new UnansweredGrantError(spent, e) : e;
  }
  if (response.status < 500) return response;
  const failure = httpError(response, await response.text(), TOKEN_ENDPOINT);
  throw new UnansweredGrantError(spent, failure);
}

function requestOptions(
  endpoints: Endpoints,
  http: HttpOptions = {},
  spent?: SingleUse,
) {
  return {
    [oauth.customFetch]: (url: string, init: RequestInit) =>
      spent
        ? sendOnce(spent, url, init, http)
        : send(TOKEN_ENDPOINT, url, init, http),
    // Only the fake CARTO on a loopback host is plain http; endpoints are validated before.
    [oauth.allowInsecureRequests]: endpoints.auth.startsWith("http:"),
    additionalParameters: { audience: AUDIENCE },
  };
}

/**
 * Validates a token endpoint response: HTTP errors carry the server's
 * `error`/`error_description`; the body must be a JSON object with
 * `access_token`, `token_type` and `expires_in` (or a JWT with `exp`).
 */
export async function processTokenResponse(
  endpoints: Endpoints,
  client: oauth.Client,
  response: Response,
  hint: string,
): Promise<TokenSet> {
  const json = await readJson(response, TOKEN_ENDPOINT, hint);
  const endpoint = endpointOf(authorizationServer(endpoints).token_endpoint!);
  let result: oauth.TokenEndpointResponse;
  try {
    result = await oauth.processGenericTokenEndpointResponse(
      authorizationServer(endpoints),
      client,
      new Response(JSON.stringify(json), {
        headers: { "content-type": "application/json" },
      }),
    );
  } catch (e) {
    throw new CredentialsError(
      `${TOKEN_ENDPOINT} (${endpoint}) answered with an invalid token response: ${
        (e as Error).message
      }.`,
      { code: "bad_response", endpoint },
    );
  }
  const now = Math.floor(Date.now() / 1000);
  const expiration = result.expires_in !== undefined
    ? now + Math.floor(result.expires_in)
    : jwtExpiration(result.access_token);
  if (expiration === undefined) {
    throw new CredentialsError(
      `${TOKEN_ENDPOINT} (${endpoint}) answered without "expires_in", so the token's lifetime is unknown.`,
      { code: "bad_response", endpoint },
    );
  }
  return {
    accessToken: result.access_token,
    expiration,
    refreshToken: result.refresh_token,
    scope: result.scope,
  };
}

/** Sends the authorization code grant (PKCE) and returns the raw response. */
export function authorizationCodeRequest(
  options: TokenEndpointOptions & {
    callbackParameters: URLSearchParams;
    redirectUri: string;
    codeVerifier: string;
  },
): Promise<Response> {
  return oauth.authorizationCodeGrantRequest(
    authorizationServer(options.endpoints),
    publicClient,
    oauth.None(),
    options.callbackParameters,
    options.redirectUri,
    options.codeVerifier,
    requestOptions(options.endpoints, options.http, "login code"),
  );
}

/**
 * Validates the answer to {@linkcode authorizationCodeRequest}. A refusal
 * (`access_denied`, `invalid_scope`, …) says what was refused instead of
 * "log in again", which would only be refused again.
 */
export async function processAuthorizationCodeResponse(
  endpoints: Endpoints,
  response: Response,
): Promise<TokenSet> {
  if (!response.ok) {
    const said = await response.clone().json().catch(() => undefined);
    const error = typeof said?.error === "string" ? said.error : undefined;
    if (isRefusal(error)) {
      throw loginServiceError(
        error,
        typeof said.error_description === "string"
          ? said.error_description.slice(0, 300)
          : undefined,
        "token",
        {
          status: response.status,
          endpoint: response.url ? endpointOf(response.url) : undefined,
        },
      );
    }
  }
  return processTokenResponse(
    endpoints,
    publicClient,
    response,
    "Log in again.",
  );
}

/** Sends the refresh token grant and returns the raw response. */
export function refreshTokenRequest(
  options: TokenEndpointOptions & { refreshToken: string },
): Promise<Response> {
  return oauth.refreshTokenGrantRequest(
    authorizationServer(options.endpoints),
    publicClient,
    oauth.None(),
    options.refreshToken,
    requestOptions(options.endpoints, options.http, "refresh token"),
  );
}

/** Validates the answer to {@linkcode refreshTokenRequest} (the same rules as a code exchange). */
export const processRefreshTokenResponse: (
  endpoints: Endpoints,
  response: Response,
) => Promise<TokenSet> = processAuthorizationCodeResponse;

/** Sends the client credentials grant (M2M) and returns the raw response. */
export function clientCredentialsRequest(
  options: TokenEndpointOptions & { clientId: string; clientSecret: string },
): Promise<Response> {
  return oauth.clientCredentialsGrantRequest(
    authorizationServer(options.endpoints),
    { client_id: options.clientId },
    oauth.ClientSecretPost(options.clientSecret),
    { audience: AUDIENCE },
    requestOptions(options.endpoints, options.http),
  );
}

/** Validates the answer to {@linkcode clientCredentialsRequest}. */
export function processClientCredentialsResponse(
  endpoints: Endpoints,
  clientId: string,
  response: Response,
): Promise<TokenSet> {
  return processTokenResponse(
    endpoints,
    { client_id: clientId },
    response,
    "Check client_id and client_secret in your M2M credentials.",
  );
}

/** Sends a revocation of the refresh token (RFC 7009) and returns the raw response. */
export function revocationRequest(
  options: TokenEndpointOptions & { refreshToken: string },
): Promise<Response> {
  const { additionalParameters: _, ...rest } = requestOptions(
    options.endpoints,
    options.http,
  );
  return oauth.revocationRequest(
    authorizationServer(options.endpoints),
    publicClient,
    oauth.None(),
    options.refreshToken,
    { ...rest, additionalParameters: { token_type_hint: "refresh_token" } },
  );
}

/** Validates the answer to {@linkcode revocationRequest}. */
export async function processRevocationResponse(
  response: Response,
): Promise<void> {
  if (response.ok) return;
  throw httpError(
    response,
    await response.text(),
    TOKEN_ENDPOINT,
  );
}
