/**
 * The fake CARTO: Auth0 (`fake_auth0.ts`), CARTO's services
 * (`fake_carto_api.ts`) and BigQuery (`fake_bigquery.ts`) on one 127.0.0.1
 * server, every request recorded and open to injected faults
 * (`fake_requests.ts`, `faults.ts`).
 *
 * @module
 */
import { Hono } from "hono";
import type { Endpoints } from "../endpoints.ts";
import { runtimeServe } from "../runtime/serve.ts";
import { fakeAuth0 } from "./fake_auth0.ts";
import { fakeBigQuery } from "./fake_bigquery.ts";
import type { FakeBigQuery } from "./fake_bigquery_types.ts";
import { fakeCartoApi } from "./fake_carto_api.ts";
import {
  type FakeFault,
  type FakeRoute,
  type RecordedRequest,
  RequestLog,
} from "./fake_requests.ts";
import { faultHandler, type FaultKind } from "./faults.ts";
import { StandInBrowser } from "./stand_in_browser.ts";

/**
 * Options of {@linkcode startFakeCarto}.
 *
 * @example Tokens that expire in a minute, and refresh tokens
 * ```ts ignore
 * const fake = await startFakeCarto({ expiresIn: 60, refreshTokens: true });
 * ```
 */
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

/**
 * A running fake CARTO; see {@linkcode startFakeCarto}.
 *
 * @example
 * ```ts ignore
 * fake.failNext("token", { status: 503, body: { error: "busy" } });
 * await m2m.getAccessToken(); // client credentials: retried after the 503
 * console.log(fake.count("token")); // 2
 * ```
 */
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
  const clients = options.clients ?? { "fake-client-id": "fake-client-secret" };
  const orgs = options.orgs ?? { acme: "org_acme123" };
  const dwProjectId = options.dwProjectId ?? "carto-dw-ac-fake";
  const dwTokens = new Map<string, number>();
  const log = new RequestLog(options.latencyMs ?? 0);
  let origin = "";

  const now = () => Math.floor(Date.now() / 1000);
  const auth0 = fakeAuth0({
    expiresIn: options.expiresIn ?? 3600,
    clients,
    orgs,
    refreshTokens: options.refreshTokens,
    rotateRefreshTokens: options.rotateRefreshTokens,
    signInPage: options.signInPage,
  });
  const bigquery = fakeBigQuery({
    isValidToken: (token) => (dwTokens.get(token) ?? 0) > now(),
    projectId: dwProjectId,
  });

  const app = new Hono();
  app.use("*", log.middleware);
  app.route("/auth0", auth0.app);
  app.route(
    "/",
    fakeCartoApi({
      isValidToken: auth0.isValidToken,
      orgs,
      origin: () => origin,
      dwProjectId,
      dwExpiresIn: options.dwExpiresIn ?? 3600,
      dwTokens,
      bigquery,
    }),
  );
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
    tenantDomain: `127.0.0.1:${server.port}`,
    credentials: {
      apiBaseUrl: `${origin}/api`,
      clientId: Object.keys(clients)[0],
      clientSecret: Object.values(clients)[0],
    },
    dwProjectId,
    requests: log.requests,
    bigquery,
    count: (route) => log.count(route),
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
      log.enqueue(route, respond, times, when);
    },
    fault(route, kind, times = 1, when) {
      fake.failNext(route, faultHandler(kind, closing.signal), times, when);
    },
    denyNextLogin(description = "The user cancelled the login") {
      auth0.denyNextLogin(description);
    },
    revokeTokens: () => auth0.revokeTokens(),
    revokeDwTokens: () => dwTokens.clear(),
    isValidToken: (token) => auth0.isValidToken(token),
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
