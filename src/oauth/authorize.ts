import * as oauth from "oauth4webapi";
import { AUDIENCE, type Endpoints, OAUTH_CLIENT_ID } from "../endpoints.ts";
import { CredentialsError } from "../errors.ts";
import { loginServiceError } from "./refusal.ts";
import { authorizationServer, publicClient } from "./token.ts";

/** An authorization request in flight: what the callback must be checked against. */
export interface AuthorizationRequest {
  /** The URL to open in a browser. */
  url: string;
  /** The random `state` the callback must carry back. */
  state: string;
  /** The PKCE verifier for the code exchange. */
  codeVerifier: string;
  /** The redirect URI, used again in the code exchange. */
  redirectUri: string;
}

/** A fresh random `state`, for a callback receiver that starts before the request. */
export const generateState: () => string = oauth.generateRandomState;

/**
 * Builds the authorize URL of a PKCE (S256) login with a random `state`
 * (or `options.state`); `organization` (an Auth0 `org_…` id) sends the user
 * to their SSO.
 */
export async function createAuthorizationRequest(options: {
  endpoints: Endpoints;
  redirectUri: string;
  organization?: string;
  state?: string;
}): Promise<AuthorizationRequest> {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = options.state ?? oauth.generateRandomState();
  const url = new URL(`${options.endpoints.auth}/authorize`);
  const params = url.searchParams;
  params.set("client_id", OAUTH_CLIENT_ID);
  params.set("response_type", "code");
  params.set("audience", AUDIENCE);
  params.set("redirect_uri", options.redirectUri);
  // Asks for a refresh token; Auth0 issues one only where the API allows offline access.
  params.set("scope", "offline_access");
  params.set(
    "code_challenge",
    await oauth.calculatePKCECodeChallenge(codeVerifier),
  );
  params.set("code_challenge_method", "S256");
  params.set("state", state);
  if (options.organization) params.set("organization", options.organization);
  return {
    url: url.href,
    state,
    codeVerifier,
    redirectUri: options.redirectUri,
  };
}

/**
 * Checks the parameters the browser brought back and returns them ready for
 * the code exchange. `state` comes first: an answer without this login's
 * state is a stale tab or someone else's (error `state_mismatch`, the only
 * error a login may shrug off). An answer with the right state settles the
 * login: the server's `error` (see {@linkcode loginServiceError}), a foreign
 * `iss` (RFC 9207), a repeated parameter or a missing code are errors that
 * name the problem. `expectedState` `undefined` accepts a missing state (a
 * pasted bare code).
 *
 * @example
 * ```ts ignore
 * const parameters = validateCallback(endpoints, new URL(callbackUrl).searchParams, request.state);
 * ```
 */
export function validateCallback(
  endpoints: Endpoints,
  parameters: URLSearchParams,
  expectedState: string | undefined,
): URLSearchParams {
  const states = parameters.getAll("state");
  if (expectedState !== undefined && !states.includes(expectedState)) {
    throw new CredentialsError(
      `The login response belongs to another login attempt (${
        states.length ? "its state does not match" : "it carries no state"
      }). Start the login again and use the newest link.`,
      { code: "bad_response", error: "state_mismatch" },
    );
  }
  const repeated = [...new Set(parameters.keys())].find((name) =>
    parameters.getAll(name).length > 1
  );
  if (repeated) {
    throw new CredentialsError(
      `The login response carries "${repeated}" more than once, which no genuine ` +
        "answer does. The login was stopped: start it again.",
      { code: "bad_response", error: "duplicate_parameter" },
    );
  }
  const server = authorizationServer(endpoints);
  let validated: URLSearchParams;
  try {
    validated = oauth.validateAuthResponse(
      server,
      publicClient,
      parameters,
      expectedState ?? oauth.skipStateCheck,
    );
  } catch (e) {
    if (e instanceof oauth.AuthorizationResponseError) {
      throw loginServiceError(e.error, e.error_description, "login");
    }
    throw invalidCallback(server.issuer, parameters, e as Error);
  }
  if (!validated.get("code")) {
    throw new CredentialsError(
      "The login response carries no code (and no error), so the login cannot be " +
        "completed. Start the login again; if it happens again, report it to CARTO support.",
      { code: "bad_response", error: "missing_code" },
    );
  }
  return validated;
}

/** Names what is wrong with a callback that oauth4webapi refused. */
function invalidCallback(
  issuer: string,
  parameters: URLSearchParams,
  e: Error,
): CredentialsError {
  const iss = parameters.get("iss");
  if (iss !== null && iss !== issuer) {
    return new CredentialsError(
      `The login service answered as issuer ${
        JSON.stringify(clip(iss))
      }, expected ${issuer}. ` +
        "The answer does not come from the login service this login was started with: check " +
        "the `endpoints.auth` option, then start the login again.",
      { code: "bad_response", error: "issuer_mismatch" },
    );
  }
  return new CredentialsError(
    `The login response is not valid (${e.message}). Start the login again; if it ` +
      "happens again, report it to CARTO support.",
    { code: "bad_response", error: "invalid_response" },
  );
}

function clip(text: string): string {
  return text.length > 100 ? `${text.slice(0, 100)}…` : text;
}
