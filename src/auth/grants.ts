/**
 * The ways a session obtains a token: client credentials (a machine), the
 * refresh token, and a person's login. Each turns the grant's answer into a
 * {@linkcode TokenSet} or a {@linkcode CredentialsError} that says what to do.
 */
import { DEFAULT_REDIRECT_PORT, type Endpoints } from "../endpoints.ts";
import { CredentialsError } from "../errors.ts";
import { interactiveLogin } from "../extras.ts";
import type { HttpOptions } from "../http.ts";
import {
  clientCredentialsRequest,
  processClientCredentialsResponse,
  processRefreshTokenResponse,
  processRevocationResponse,
  refreshTokenRequest,
  revocationRequest,
  type TokenSet,
} from "../oauth/token.ts";
import type { OAuthOptions } from "./options.ts";

/** Where the grants are sent. */
export interface GrantContext {
  endpoints: Endpoints;
  http: HttpOptions;
}

/** A machine's token from its client credentials. */
export async function clientCredentialsToken(
  ctx: GrantContext,
  clientId: string | undefined,
  clientSecret: string | undefined,
): Promise<TokenSet> {
  if (!clientId || !clientSecret) {
    throw new CredentialsError(
      "The M2M token has expired and there are no client credentials to renew it. " +
        "Create the CartoAuth with clientId and clientSecret, or use CartoAuth.fromM2M().",
      { code: "login_required" },
    );
  }
  const response = await clientCredentialsRequest({
    ...ctx,
    clientId,
    clientSecret,
  });
  return processClientCredentialsResponse(ctx.endpoints, clientId, response);
}

/** A token from the refresh token; `undefined` when the server no longer accepts it. */
export async function refreshedToken(
  ctx: GrantContext,
  refreshToken: string,
): Promise<TokenSet | undefined> {
  try {
    const response = await refreshTokenRequest({ ...ctx, refreshToken });
    return await processRefreshTokenResponse(ctx.endpoints, response);
  } catch (e) {
    // Refused (or the server wants the person back): a login takes over.
    if (
      e instanceof CredentialsError &&
      (e.code === "invalid_credentials" || e.code === "login_required")
    ) return undefined;
    throw e;
  }
}

/** A person's login in the browser (or the paste flow), unless `interactive` is false. */
export async function loginToken(
  ctx: GrantContext,
  options: OAuthOptions,
  log: (message: string) => void,
): Promise<TokenSet> {
  if (options.interactive === false) {
    throw new CredentialsError(
      "You are not logged in to CARTO, or the login has expired. Run `carto-auth login`, " +
        "or use M2M credentials for unattended work.",
      { code: "login_required" },
    );
  }
  const { resolveOrganization } = await import("../discovery.ts");
  const organization = options.org
    ? await resolveOrganization(options.org, ctx)
    : undefined;
  return interactiveLogin({
    ...ctx,
    organization,
    openBrowser: options.openBrowser ?? true,
    prompt: options.prompt,
    redirectPort: options.redirectPort ?? DEFAULT_REDIRECT_PORT,
    timeoutMs: options.loginTimeoutMs,
    log,
  });
}

/** Revokes a refresh token (RFC 7009); a failure is only reported through `log`. */
export async function revokeRefreshToken(
  ctx: GrantContext,
  refreshToken: string,
  log: (message: string) => void,
): Promise<void> {
  try {
    await processRevocationResponse(
      await revocationRequest({ ...ctx, refreshToken }),
    );
  } catch (e) {
    log(
      `carto-auth: logged out here, but the refresh token could not be revoked: ${
        (e as Error).message
      }`,
    );
  }
}
