import * as oauth from "oauth4webapi";
import { AUDIENCE, type Endpoints, OAUTH_CLIENT_ID } from "../endpoints.ts";
import { CredentialsError } from "../errors.ts";
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

/** Why a callback was refused. */
export type CallbackProblem = "state" | "error";

/**
 * Checks the parameters the browser brought back (`state` first, then
 * `error`) and returns them ready for the code exchange. `expectedState`
 * `undefined` accepts a missing state (a pasted bare code).
 */
export function validateCallback(
  endpoints: Endpoints,
  parameters: URLSearchParams,
  expectedState: string | undefined,
): URLSearchParams {
  try {
    return oauth.validateAuthResponse(
      authorizationServer(endpoints),
      publicClient,
      parameters,
      expectedState ?? oauth.skipStateCheck,
    );
  } catch (e) {
    if (e instanceof oauth.AuthorizationResponseError) {
      const detail = e.error_description ? `: ${e.error_description}` : "";
      throw new CredentialsError(
        `CARTO login failed (${e.error}${detail}). Log in again.`,
        {
          code: e.error === "access_denied"
            ? "invalid_credentials"
            : "bad_response",
          error: e.error,
          errorDescription: e.error_description,
        },
      );
    }
    throw new CredentialsError(
      "The login response belongs to another login attempt (its state does not match). " +
        "Start the login again and use the newest link.",
      { code: "bad_response", error: "state_mismatch" },
    );
  }
}
