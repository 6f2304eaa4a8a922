/**
 * The fake Auth0 of the fake CARTO (mounted at `/auth0`): the authorize
 * endpoint (PKCE required, SSO organizations, an optional sign-in page), the
 * token endpoint (client credentials, authorization code with the verifier
 * checked, refresh tokens, rotating if asked) and revocation.
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { OAUTH_CLIENT_ID, PASTE_REDIRECT_URI } from "../endpoints.ts";
import { signInPage } from "./sign_in_page.ts";
import { base64url, randomId, sha256Base64url } from "./util.ts";

/** Options of {@linkcode fakeAuth0}: the fake CARTO's, with defaults applied. */
export interface FakeAuth0Options {
  /** `expires_in` of issued tokens. */
  expiresIn: number;
  /** M2M clients, id → secret. */
  clients: Record<string, string>;
  /** SSO organizations, name → Auth0 id. */
  orgs: Record<string, string>;
  /** Issue refresh tokens with the authorization code grant. */
  refreshTokens?: boolean;
  /** Each refresh answer carries a new refresh token; the one presented stops working. */
  rotateRefreshTokens?: boolean;
  /** Show a sign-in page at `/authorize` instead of approving at once. */
  signInPage?: boolean;
}

/** The fake Auth0 with its Hono app and the tokens it issued. */
export interface FakeAuth0 {
  /** The routes, to mount at `/auth0`. */
  readonly app: Hono;
  /** Whether `token` is an access token this fake issued, unexpired and not revoked. */
  isValidToken(token: string): boolean;
  /** Makes every access token issued so far invalid. */
  revokeTokens(): void;
  /** Makes the next authorization request end with `error=access_denied`. */
  denyNextLogin(description: string): void;
}

/** What an issued CARTO access token stands for. */
interface IssuedToken {
  expiresAt: number;
  subject: string;
  org?: string;
}

interface PendingCode {
  subject: string;
  challenge: string;
  redirectUri: string;
  org?: string;
  used: boolean;
}

/**
 * Builds the fake Auth0.
 *
 * @example
 * ```ts ignore
 * const auth0 = fakeAuth0({ expiresIn: 3600, clients, orgs });
 * app.route("/auth0", auth0.app);
 * ```
 */
export function fakeAuth0(options: FakeAuth0Options): FakeAuth0 {
  const { expiresIn, clients, orgs } = options;
  const tokens = new Map<string, IssuedToken>();
  const refreshTokens = new Map<string, { subject: string; org?: string }>();
  const codes = new Map<string, PendingCode>();
  let denial: string | undefined;

  const now = () => Math.floor(Date.now() / 1000);
  const issue = (subject: string, org?: string, withRefresh = false) => {
    const claims = {
      sub: subject,
      exp: now() + expiresIn,
      ...(org ? { org_id: org } : {}),
    };
    const accessToken = [
      base64url(JSON.stringify({ alg: "RS256", typ: "JWT" })),
      base64url(JSON.stringify(claims)),
      randomId(16),
    ].join(".");
    tokens.set(accessToken, { expiresAt: claims.exp, subject, org });
    const body: Record<string, unknown> = {
      access_token: accessToken,
      expires_in: expiresIn,
      token_type: "Bearer",
      scope: "read:account",
    };
    if (withRefresh) {
      const refreshToken = `rt-${randomId(16)}`;
      refreshTokens.set(refreshToken, { subject, org });
      body.refresh_token = refreshToken;
    }
    return body;
  };
  const oauthError = (
    c: Context,
    status: 400 | 401 | 403,
    error: string,
    description: string,
  ) => c.json({ error, error_description: description }, status);

  const app = new Hono();

  const authorize = (
    c: Context,
    q: Record<string, string>,
    subject = "auth0|fake-user",
  ) => {
    const redirectUri = q.redirect_uri ?? "";
    const loopback = /^http:\/\/localhost:\d+\/callback\/$/.test(redirectUri);
    if (!loopback && redirectUri !== PASTE_REDIRECT_URI) {
      return c.text("redirect_uri is not registered for this client", 400);
    }
    const problem = q.client_id !== OAUTH_CLIENT_ID
      ? "unknown client_id"
      : q.response_type !== "code"
      ? "response_type must be code"
      : q.audience !== "carto-cloud-native-api"
      ? "audience must be carto-cloud-native-api"
      : q.code_challenge_method !== "S256" || !q.code_challenge
      ? "PKCE with S256 is required"
      : q.organization && !Object.values(orgs).includes(q.organization)
      ? "unknown organization"
      : undefined;
    const back = new URL(redirectUri);
    if (q.state) back.searchParams.set("state", q.state);
    if (problem || denial !== undefined) {
      back.searchParams.set(
        "error",
        problem ? "invalid_request" : "access_denied",
      );
      back.searchParams.set("error_description", problem ?? denial ?? "");
      denial = undefined;
      return c.redirect(back.href, 302);
    }
    const code = randomId(20);
    codes.set(code, {
      subject,
      challenge: q.code_challenge,
      redirectUri,
      org: q.organization,
      used: false,
    });
    back.searchParams.set("code", code);
    return c.redirect(back.href, 302);
  };
  app.get(
    "/authorize",
    (c) =>
      options.signInPage
        ? c.html(signInPage("/auth0/authorize", c.req.query()))
        : authorize(c, c.req.query()),
  );
  app.post("/authorize", async (c) => {
    const { user, action, ...q } = Object.fromEntries(
      new URLSearchParams(await c.req.text()),
    );
    if (action === "cancel") denial = "The user cancelled the login";
    return authorize(c, q, `auth0|${user || "fake-user"}`);
  });

  app.post("/oauth/token", async (c) => {
    const form = new URLSearchParams(await c.req.text());
    const grant = form.get("grant_type");
    if (grant === "client_credentials") {
      const id = form.get("client_id") ?? "";
      if (form.get("audience") !== "carto-cloud-native-api") {
        return oauthError(
          c,
          403,
          "access_denied",
          "Service not enabled within domain",
        );
      }
      if (!(id in clients) || clients[id] !== form.get("client_secret")) {
        return oauthError(c, 401, "access_denied", "Unauthorized");
      }
      return c.json(issue(`${id}@clients`));
    }
    if (grant === "authorization_code") {
      const pending = codes.get(form.get("code") ?? "");
      if (form.get("client_id") !== OAUTH_CLIENT_ID) {
        return oauthError(c, 401, "invalid_client", "Unknown client");
      }
      if (!pending || pending.used) {
        return oauthError(
          c,
          403,
          "invalid_grant",
          "Invalid authorization code",
        );
      }
      pending.used = true;
      if (pending.redirectUri !== form.get("redirect_uri")) {
        return oauthError(
          c,
          403,
          "invalid_grant",
          "redirect_uri does not match",
        );
      }
      const verifier = form.get("code_verifier") ?? "";
      if (!verifier || await sha256Base64url(verifier) !== pending.challenge) {
        return oauthError(
          c,
          403,
          "invalid_grant",
          "Failed to verify code verifier",
        );
      }
      return c.json(
        issue(pending.subject, pending.org, options.refreshTokens),
      );
    }
    if (grant === "refresh_token") {
      const known = refreshTokens.get(form.get("refresh_token") ?? "");
      if (!known || form.get("client_id") !== OAUTH_CLIENT_ID) {
        return oauthError(
          c,
          403,
          "invalid_grant",
          "Unknown or invalid refresh token.",
        );
      }
      const rotate = options.rotateRefreshTokens ?? false;
      if (rotate) refreshTokens.delete(form.get("refresh_token")!);
      return c.json(issue(known.subject, known.org, rotate));
    }
    return oauthError(
      c,
      400,
      "unsupported_grant_type",
      `Unsupported grant type: ${grant}`,
    );
  });

  app.post("/oauth/revoke", async (c) => {
    const form = new URLSearchParams(await c.req.text());
    if (form.get("client_id") !== OAUTH_CLIENT_ID) {
      return oauthError(c, 401, "invalid_client", "Unknown client");
    }
    refreshTokens.delete(form.get("token") ?? "");
    return c.body(null, 200);
  });

  return {
    app,
    isValidToken(token) {
      const t = tokens.get(token);
      return !!t && t.expiresAt > now();
    },
    revokeTokens: () => tokens.clear(),
    denyNextLogin(description) {
      denial = description;
    },
  };
}
