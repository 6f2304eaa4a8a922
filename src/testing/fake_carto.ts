import { Hono } from "hono";
import type { Context } from "hono";
import { OAUTH_CLIENT_ID, PASTE_REDIRECT_URI } from "../endpoints.ts";
import type { Endpoints } from "../endpoints.ts";
import { runtimeServe } from "../runtime/serve.ts";
import { fakeBigQuery } from "./fake_bigquery.ts";
import type { FakeBigQuery } from "./fake_bigquery_types.ts";
import { base64url, randomId, sha256Base64url } from "./util.ts";
import { faultHandler, type FaultKind } from "./faults.ts";
import { signInPage } from "./sign_in_page.ts";
import { StandInBrowser } from "./stand_in_browser.ts";

/** The upstream calls whose answers a test can replace with {@linkcode FakeCarto.failNext}. */
export type FakeRoute =
  | "authorize"
  | "token"
  | "revoke"
  | "accounts"
  | "orgId"
  | "config"
  | "dwToken"
  | "sql"
  | "bigquery";

/** One request the fake received. */
export interface RecordedRequest {
  /** Which upstream call it was; `undefined` for unknown paths. */
  route?: FakeRoute;
  /** HTTP method. */
  method: string;
  /** Path and query, e.g. `/auth0/oauth/token`. */
  path: string;
  /** Request headers, `authorization` included. */
  headers: Headers;
  /** The body as text (`""` when none). */
  body: string;
}

/** Options of {@linkcode startFakeCarto}. */
export interface FakeCartoOptions {
  /** `expires_in` of issued CARTO tokens, default 3600. */
  expiresIn?: number;
  /** `expires_in` of issued DW (Google) tokens, default 3600. */
  dwExpiresIn?: number;
  /** Issue refresh tokens with the authorization code grant, default false. */
  refreshTokens?: boolean;
  /**
   * Rotate refresh tokens as Auth0 can: each refresh answer carries a new
   * refresh token and the one presented stops working. Default false.
   */
  rotateRefreshTokens?: boolean;
  /** M2M clients, id → secret; default `{ "fake-client-id": "fake-client-secret" }`. */
  clients?: Record<string, string>;
  /** SSO organizations, name → Auth0 id; default `{ acme: "org_acme123" }`. */
  orgs?: Record<string, string>;
  /** The DW project id, default `carto-dw-ac-fake`. */
  dwProjectId?: string;
  /**
   * Show a sign-in page at `/authorize` (a user name, "Sign in", "Cancel")
   * instead of approving at once, as a real login service does; default false.
   */
  signInPage?: boolean;
  /** Answer every request this much later, as a distant server would; default 0. */
  latencyMs?: number;
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

/** A replacement answer for {@linkcode FakeCarto.failNext}: a function of the request. */
export type FakeFault = (request: Request) => Response | Promise<Response>;

/** A running fake CARTO; see {@linkcode startFakeCarto}. */
export interface FakeCarto {
  /** Its origin, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Endpoints to pass as the `endpoints` option. */
  readonly endpoints: Endpoints;
  /** The API base URL that discovery finds (`<url>/api`). */
  readonly apiBaseUrl: string;
  /** The `tenant_domain` the accounts endpoint returns. */
  readonly tenantDomain: string;
  /** A valid M2M credentials object for `CartoAuth.fromM2M`. */
  readonly credentials: {
    apiBaseUrl: string;
    clientId: string;
    clientSecret: string;
  };
  /** The DW project id. */
  readonly dwProjectId: string;
  /** Every request received, oldest first. */
  readonly requests: RecordedRequest[];
  /** The BigQuery part: canned results and jobs. */
  readonly bigquery: FakeBigQuery;
  /** How many requests reached `route`. */
  count(route: FakeRoute): number;
  /**
   * Answers the next `times` requests to `route` with `fault` instead of the
   * normal answer: a status with a JSON or text body, or a function of the
   * request. With `when`, only requests it accepts count (e.g. BigQuery's
   * page requests and not the query itself).
   */
  failNext(
    route: FakeRoute,
    fault:
      | { status: number; body?: unknown; headers?: Record<string, string> }
      | FakeFault,
    times?: number,
    when?: (request: Request) => boolean,
  ): void;
  /** Injects the fault `kind` (see {@linkcode FaultKind}) into the next `times` requests to `route`. */
  fault(
    route: FakeRoute,
    kind: FaultKind,
    times?: number,
    when?: (request: Request) => boolean,
  ): void;
  /** Makes the next authorization request end with `error=access_denied`. */
  denyNextLogin(description?: string): void;
  /** Makes every CARTO access token issued so far invalid (as after a revocation). */
  revokeTokens(): void;
  /** Makes every DW token issued so far invalid. */
  revokeDwTokens(): void;
  /** Whether `token` is a CARTO access token this fake issued and still accepts. */
  isValidToken(token: string): boolean;
  /**
   * A stand-in browser for `openBrowser`: opens the login's start link,
   * keeping its cookie, follows it to the authorize URL (the fake approves at
   * once) and on to the loopback callback. Resolves with the URL the callback
   * sent the browser to (`""` when it answered with a page).
   */
  browser(url: string): Promise<string>;
  /**
   * A stand-in person for `prompt` in the paste flow: takes the URL from the
   * message, "logs in" and pastes back the URL the browser ends on.
   */
  paste(message: string): Promise<string>;
  /** Stops the server. */
  close(): Promise<void>;
  /** Same as {@linkcode close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a fake CARTO on 127.0.0.1 with an ephemeral port: Auth0 authorize and
 * token endpoints (PKCE checked), accounts, SSO org lookup, the tenant
 * `config.yaml`, the DW token, the SQL API and a BigQuery REST subset. Point a
 * `CartoAuth` at it with `endpoints: fake.endpoints`.
 *
 * @example An M2M login against the fake
 * ```ts
 * import { CartoAuth } from "@carto/auth";
 * import { startFakeCarto } from "@carto/auth/testing";
 *
 * await using fake = await startFakeCarto();
 * const auth = await CartoAuth.fromM2M(fake.credentials, {
 *   endpoints: fake.endpoints,
 *   useCache: false,
 * });
 * console.log(await auth.getAccessToken());
 * ```
 */
export async function startFakeCarto(
  options: FakeCartoOptions = {},
): Promise<FakeCarto> {
  const expiresIn = options.expiresIn ?? 3600;
  const clients = options.clients ?? { "fake-client-id": "fake-client-secret" };
  const orgs = options.orgs ?? { acme: "org_acme123" };
  const dwProjectId = options.dwProjectId ?? "carto-dw-ac-fake";
  const tokens = new Map<string, IssuedToken>();
  const refreshTokens = new Map<string, { subject: string; org?: string }>();
  const codes = new Map<string, PendingCode>();
  const dwTokens = new Map<string, number>();
  const faults = new Map<
    FakeRoute,
    { respond: FakeFault; when?: (request: Request) => boolean }[]
  >();
  const requests: RecordedRequest[] = [];
  let denial: string | undefined;
  let origin = "";

  const now = () => Math.floor(Date.now() / 1000);
  const isValidToken = (token: string) => {
    const t = tokens.get(token);
    return !!t && t.expiresAt > now();
  };
  const bearer = (c: Context) =>
    /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1];
  const unauthorized = (c: Context) =>
    c.json({ error: "Unauthorized", message: "Missing or invalid token" }, 401);

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
  const bigquery = fakeBigQuery({
    isValidToken: (token) => (dwTokens.get(token) ?? 0) > now(),
    projectId: dwProjectId,
  });

  app.use("*", async (c, next) => {
    const path = new URL(c.req.url).pathname;
    const route = routeOf(path);
    const recorded: RecordedRequest = {
      route,
      method: c.req.method,
      path: path + new URL(c.req.url).search,
      headers: new Headers(c.req.raw.headers),
      // Hono caches the body, so handlers can still read it.
      body: c.req.method === "GET" ? "" : await c.req.text(),
    };
    requests.push(recorded);
    if (options.latencyMs) {
      await new Promise((r) => setTimeout(r, options.latencyMs));
    }
    const queue = route ? faults.get(route) ?? [] : [];
    const { method, headers, body } = recorded;
    const request = () =>
      new Request(c.req.url, { method, headers, body: body || undefined });
    const index = queue.findIndex((f) => !f.when || f.when(request()));
    if (index >= 0) return queue.splice(index, 1)[0].respond(request());
    await next();
  });

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
    "/auth0/authorize",
    (c) =>
      options.signInPage
        ? c.html(signInPage("/auth0/authorize", c.req.query()))
        : authorize(c, c.req.query()),
  );
  app.post("/auth0/authorize", async (c) => {
    const { user, action, ...q } = Object.fromEntries(
      new URLSearchParams(await c.req.text()),
    );
    if (action === "cancel") denial = "The user cancelled the login";
    return authorize(c, q, `auth0|${user || "fake-user"}`);
  });

  app.post("/auth0/oauth/token", async (c) => {
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

  app.post("/auth0/oauth/revoke", async (c) => {
    const form = new URLSearchParams(await c.req.text());
    if (form.get("client_id") !== OAUTH_CLIENT_ID) {
      return oauthError(c, 401, "invalid_client", "Unknown client");
    }
    refreshTokens.delete(form.get("token") ?? "");
    return c.body(null, 200);
  });

  app.get("/accounts-api/accounts", (c) => {
    const token = bearer(c);
    if (!token || !isValidToken(token)) return unauthorized(c);
    return c.json({ id: "ac_fake", tenant_domain: tenantDomain() });
  });

  app.get("/accounts-api/accounts/:name/auth0_org_id", (c) => {
    const id = orgs[c.req.param("name")];
    if (!id) return c.json({ error: "Account not found" }, 404);
    return c.json({ auth0orgId: id });
  });

  app.get("/config.yaml", (c) =>
    c.text(
      [
        "# tenant configuration",
        "apis:",
        `  baseUrl: "${origin}/api"`,
        `  workspaceUrl: "${origin}/workspace"`,
        "",
      ].join("\n"),
      200,
      { "content-type": "text/yaml" },
    ));

  app.get("/api/v3/connections/carto-dw/token", (c) => {
    const token = bearer(c);
    if (!token || !isValidToken(token)) return unauthorized(c);
    const dwToken = `ya29.fake-${randomId(20)}`;
    dwTokens.set(dwToken, now() + (options.dwExpiresIn ?? 3600));
    return c.json({ projectId: dwProjectId, token: dwToken });
  });

  const sql = (c: Context, query: string | undefined) => {
    const token = bearer(c);
    if (!token || !isValidToken(token)) return unauthorized(c);
    if (!query) return c.json({ error: "Missing q parameter" }, 400);
    const result = bigquery.evaluate(query);
    if ("error" in result) return c.json({ error: result.error }, 400);
    return c.json({
      rows: result.values.map((row) =>
        Object.fromEntries(
          result.schema.map((f, i) => [f.name, sqlApiValue(f.type, row[i])]),
        )
      ),
      schema: result.schema.map((f) => ({
        name: f.name,
        type: f.type.toLowerCase(),
      })),
      meta: { cacheHit: false, totalBytesProcessed: "0", location: "US" },
    });
  };
  app.get("/api/v3/sql/:connection/query", (c) => sql(c, c.req.query("q")));
  app.post("/api/v3/sql/:connection/query", async (c) => {
    const body = await c.req.json().catch(() => ({}));
    return sql(c, typeof body?.q === "string" ? body.q : undefined);
  });

  app.route("/bigquery/v2", bigquery.app);
  app.notFound((c) =>
    c.json({ error: `No route for ${c.req.method} ${c.req.path}` }, 404)
  );

  const serve = await runtimeServe();
  const server = await serve(
    { hostname: "127.0.0.1", port: 0 },
    (request) => app.fetch(request),
  );
  origin = `http://127.0.0.1:${server.port}`;
  const tenantDomain = () => `127.0.0.1:${server.port}`;

  const closing = new AbortController();
  const close = () => {
    closing.abort();
    return server.close();
  };

  const approve = async (authorizeUrl: string) => {
    const approved = await fetch(authorizeUrl, { redirect: "manual" });
    await approved.body?.cancel();
    const location = approved.headers.get("location");
    if (!location) {
      throw new Error(
        `authorize answered ${approved.status} without a redirect`,
      );
    }
    return location;
  };

  const fake: FakeCarto = {
    url: origin,
    endpoints: {
      auth: `${origin}/auth0`,
      accounts: `${origin}/accounts-api`,
      bigquery: `${origin}/bigquery/v2`,
    },
    apiBaseUrl: `${origin}/api`,
    tenantDomain: tenantDomain(),
    credentials: {
      apiBaseUrl: `${origin}/api`,
      clientId: Object.keys(clients)[0],
      clientSecret: Object.values(clients)[0],
    },
    dwProjectId,
    requests,
    bigquery,
    count: (route) => requests.filter((r) => r.route === route).length,
    failNext(route, fault, times = 1, when) {
      const respond: FakeFault = typeof fault === "function" ? fault : () => {
        const body = typeof fault.body === "string"
          ? fault.body
          : JSON.stringify(fault.body ?? {});
        const type = typeof fault.body === "string"
          ? "text/plain"
          : "application/json";
        return new Response(body, {
          status: fault.status,
          headers: { "content-type": type, ...fault.headers },
        });
      };
      const queue = faults.get(route) ?? [];
      for (let i = 0; i < times; i++) queue.push({ respond, when });
      faults.set(route, queue);
    },
    fault(route, kind, times = 1, when) {
      fake.failNext(route, faultHandler(kind, closing.signal), times, when);
    },
    denyNextLogin(description = "The user cancelled the login") {
      denial = description;
    },
    revokeTokens: () => tokens.clear(),
    revokeDwTokens: () => dwTokens.clear(),
    isValidToken,
    async browser(url) {
      const landing = await new StandInBrowser().open(url);
      return landing.status >= 300 && landing.status < 400 ? landing.url : "";
    },
    async paste(message) {
      const url = /https?:\/\/\S+\/authorize\?\S+/.exec(message)?.[0];
      if (!url) throw new Error(`no authorize URL in the prompt: ${message}`);
      return await approve(url);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
  return fake;
}

function routeOf(path: string): FakeRoute | undefined {
  if (path === "/auth0/authorize") return "authorize";
  if (path === "/auth0/oauth/token") return "token";
  if (path === "/auth0/oauth/revoke") return "revoke";
  if (path === "/accounts-api/accounts") return "accounts";
  if (path.startsWith("/accounts-api/accounts/")) return "orgId";
  if (path === "/config.yaml") return "config";
  if (path === "/api/v3/connections/carto-dw/token") return "dwToken";
  if (path.startsWith("/api/v3/sql/")) return "sql";
  if (path.startsWith("/bigquery/v2/")) return "bigquery";
  return undefined;
}

/** The SQL API answers with JSON values, not BigQuery's strings. */
function sqlApiValue(type: string, value: unknown): unknown {
  if (value === null || typeof value !== "string") return value;
  if (type === "INTEGER" || type === "FLOAT") return Number(value);
  if (type === "BOOLEAN") return value === "true";
  return value;
}
