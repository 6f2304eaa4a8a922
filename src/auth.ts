import {
  CartoDwClient,
  type CartoDwClientOptions,
  type DwCredentials,
} from "./dw/client.ts";
import {
  DEFAULT_REDIRECT_PORT,
  type Endpoints,
  normalizeBaseUrl,
  resolveEndpoints,
} from "./endpoints.ts";
import { CredentialsError } from "./errors.ts";
import { jwtExpiration } from "./jwt.ts";
import { type HttpOptions, readJson, send } from "./http.ts";
import {
  type M2MCredentials,
  parseM2MCredentials,
  readM2MCredentialsFile,
} from "./m2m.ts";
import type { OpenBrowser, Prompt } from "./oauth/login.ts";
import {
  clientCredentialsRequest,
  processClientCredentialsResponse,
  processRefreshTokenResponse,
  processRevocationResponse,
  refreshTokenRequest,
  revocationRequest,
  type TokenSet,
} from "./oauth/token.ts";
import { nodeBuiltin } from "./runtime/builtins.ts";
import { FileTokenStore } from "./stores/file.ts";
import { MemoryTokenStore } from "./stores/memory.ts";
import type { StoredToken, TokenStore } from "./stores/types.ts";

/** A column of a CARTO SQL API result. */
export interface SqlApiField {
  /** Column name. */
  name: string;
  /** Column type as the connection names it (e.g. `int64`, `string`). */
  type: string;
}

/** What {@linkcode CartoAuth.querySql} returns. */
export interface SqlApiResult {
  /** One object per row, as JSON values. */
  rows: Record<string, unknown>[];
  /** The columns, in order. */
  schema: SqlApiField[];
  /** What the API says about the query (bytes processed, cache hit, …). */
  meta: Record<string, unknown>;
}

/** URLs longer than this go as POST (proxies and servers cap URL length). */
const MAX_GET_URL = 2000;
const SQL_MAX_BYTES = 64 * 1024 * 1024;

/** How a {@linkcode CartoAuth} obtains tokens. */
export type Mode = "oauth" | "m2m";

/** Options every way of creating a {@linkcode CartoAuth} takes. */
export interface CommonOptions {
  /** The token cache file; default `~/.carto-auth/token_<mode>.json` where a file system exists. */
  cacheFilepath?: string;
  /** Where tokens are kept instead of the file (KV in workers, memory, …). */
  store?: TokenStore;
  /** Read and write the cache, default true. */
  useCache?: boolean;
  /** Transport, default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Base URLs of Auth0, accounts and BigQuery (tests point them at the fake CARTO). */
  endpoints?: Partial<Endpoints>;
  /** Renew a token this many seconds before it expires, default 60. */
  leewaySeconds?: number;
  /** Timeout of each HTTP request in milliseconds, default 30 000. */
  timeoutMs?: number;
  /** Receives messages meant for a person (login URL, warnings); default `console.error`. */
  log?: (message: string) => void;
}

/** Options of {@linkcode CartoAuth.fromOAuth}. */
export interface OAuthOptions extends CommonOptions {
  /** The API base URL; wins over the cache and discovery. */
  apiBaseUrl?: string;
  /** SSO organization: its name (looked up) or Auth0 `org_…` id. */
  org?: string;
  /**
   * `true` (default) opens the system browser where one can be expected
   * (else the paste flow runs), `false` always pastes, a function plays the
   * browser (tests, apps with their own UI).
   */
  openBrowser?: boolean | OpenBrowser;
  /** Reads the pasted code or URL; default reads the terminal. */
  prompt?: Prompt;
  /** Port of the loopback redirect `http://localhost:<port>/callback/`, default 10000. */
  redirectPort?: number;
  /**
   * Whether a login may run when no usable token exists, default true. With
   * false, such a call throws a `CredentialsError` with code `login_required`.
   */
  interactive?: boolean;
  /** How long a person has to finish a login, default 5 minutes. */
  loginTimeoutMs?: number;
}

/** Options of {@linkcode CartoAuth.fromM2M}. */
export interface M2MOptions extends CommonOptions {
  /** Overrides the credentials' API base URL. */
  apiBaseUrl?: string;
}

/** Options of `new CartoAuth(…)`. */
export interface CartoAuthOptions extends OAuthOptions {
  /** `"oauth"` (a person) or `"m2m"` (a machine). */
  mode: Mode;
  /** A token obtained elsewhere. */
  accessToken?: string;
  /** When `accessToken` expires, Unix seconds; default its JWT `exp`, else unknown. */
  expiration?: number;
  /** OAuth refresh token to renew `accessToken` with. */
  refreshToken?: string;
  /** M2M client id. */
  clientId?: string;
  /** M2M client secret. */
  clientSecret?: string;
}

/**
 * Credentials for CARTO: obtains, caches and renews the access token of a
 * person (OAuth + PKCE) or a machine (M2M client credentials), and opens the
 * CARTO Data Warehouse.
 *
 * @example A script
 * ```ts
 * import { CartoAuth } from "@carto/auth";
 *
 * const auth = await CartoAuth.fromOAuth(); // cached token, else a browser login
 * const res = await auth.fetch("/v3/sql/carto_dw/query?q=select%201");
 * console.log(await res.json());
 * ```
 */
export class CartoAuth {
  readonly #mode: Mode;
  readonly #options: CartoAuthOptions;
  readonly #endpoints: Endpoints;
  readonly #http: HttpOptions;
  readonly #store?: TokenStore;
  readonly #leeway: number;
  readonly #log: (message: string) => void;
  #apiBaseUrl?: string;
  #apiBaseUrlPinned: boolean;
  #token?: StoredToken;
  #renewal?: Promise<StoredToken>;

  /**
   * Creates credentials without any I/O. A token is obtained on first use.
   *
   * @example A token obtained elsewhere
   * ```ts
   * import { CartoAuth } from "@carto/auth";
   *
   * const auth = new CartoAuth({
   *   mode: "oauth",
   *   apiBaseUrl: "https://gcp-us-east1.api.carto.com",
   *   accessToken: "eyJhbGciOi…",
   *   expiration: Math.floor(Date.now() / 1000) + 3600,
   * });
   * ```
   */
  constructor(options: CartoAuthOptions) {
    if (options?.mode !== "oauth" && options?.mode !== "m2m") {
      throw new CredentialsError(
        `Mode not supported: ${
          JSON.stringify(options?.mode)
        }. Use "oauth" or "m2m".`,
        { code: "invalid_input" },
      );
    }
    this.#mode = options.mode;
    this.#options = options;
    this.#endpoints = resolveEndpoints(options.endpoints);
    // Auth answers are small; anything near a megabyte is not one.
    this.#http = {
      fetch: options.fetch,
      timeoutMs: options.timeoutMs,
      maxBytes: 1 << 20,
    };
    this.#leeway = options.leewaySeconds ?? 60;
    this.#log = options.log ?? ((m) => console.error(m));
    this.#apiBaseUrlPinned = options.apiBaseUrl !== undefined;
    if (options.apiBaseUrl !== undefined) {
      this.#apiBaseUrl = normalizeBaseUrl(options.apiBaseUrl, "apiBaseUrl");
    }
    if (options.accessToken) {
      this.#token = {
        accessToken: options.accessToken,
        expiration: options.expiration ?? jwtExpiration(options.accessToken) ??
          Infinity,
        refreshToken: options.refreshToken,
      };
    }
    if (options.useCache !== false) {
      this.#store = options.store ?? defaultStore(options.cacheFilepath);
    }
  }

  /**
   * Credentials of a person: the cached token when it is still good, else a
   * browser login (or the paste flow where no browser can be expected).
   *
   * @example
   * ```ts
   * import { CartoAuth } from "@carto/auth";
   *
   * const auth = await CartoAuth.fromOAuth({ org: "acme" });
   * console.log(auth.getApiBaseUrl());
   * ```
   */
  static async fromOAuth(options: OAuthOptions = {}): Promise<CartoAuth> {
    const auth = new CartoAuth({ ...options, mode: "oauth" });
    await auth.getAccessToken();
    return auth;
  }

  /**
   * Credentials of a machine, from a credentials file (the Python package's
   * format) or an object. A missing or empty key throws a
   * {@linkcode CredentialsError} naming it.
   *
   * @example
   * ```ts
   * import { CartoAuth } from "@carto/auth";
   *
   * const auth = await CartoAuth.fromM2M("./carto_credentials.json");
   * const [projectId] = await auth.getCartoDwCredentials();
   * ```
   */
  static async fromM2M(
    credentials: string | M2MCredentials,
    options: M2MOptions = {},
  ): Promise<CartoAuth> {
    const creds = typeof credentials === "string"
      ? await readM2MCredentialsFile(credentials, options.log)
      : parseM2MCredentials(credentials);
    const auth = new CartoAuth({
      ...options,
      mode: "m2m",
      apiBaseUrl: options.apiBaseUrl ?? creds.apiBaseUrl,
      clientId: creds.clientId,
      clientSecret: creds.clientSecret,
    });
    await auth.getAccessToken();
    return auth;
  }

  /** `"oauth"` or `"m2m"`. */
  get mode(): Mode {
    return this.#mode;
  }

  /** When the current token expires (Unix seconds), if one is held. */
  get expiration(): number | undefined {
    return this.#token?.expiration;
  }

  /** The resolved endpoints this instance talks to. */
  get endpoints(): Readonly<Endpoints> {
    return this.#endpoints;
  }

  /** The API base URL of the account, e.g. `https://gcp-us-east1.api.carto.com`. */
  getApiBaseUrl(): string | undefined {
    return this.#apiBaseUrl;
  }

  /**
   * A valid access token: the one held, else the cache's, else a new one
   * (M2M silently; OAuth with the refresh token, else a login). Concurrent
   * calls share one renewal.
   */
  getAccessToken(): Promise<string> {
    const token = this.#token;
    if (token && this.#isFresh(token)) {
      return Promise.resolve(token.accessToken);
    }
    return this.#renew().then((t) => t.accessToken);
  }

  /**
   * The CARTO Data Warehouse project id and a Google OAuth token for it
   * (valid about one hour).
   */
  async getCartoDwCredentials(): Promise<[projectId: string, token: string]> {
    const { projectId, token } = await this.#dwCredentials();
    return [projectId, token];
  }

  /**
   * A BigQuery client for the CARTO Data Warehouse that renews its
   * credentials by itself.
   *
   * @example
   * ```ts
   * import { CartoAuth } from "@carto/auth";
   *
   * const auth = await CartoAuth.fromM2M("./carto_credentials.json");
   * const dw = await auth.getCartoDwClient();
   * const { rows } = await dw.query("SELECT @n AS n", { params: { n: 1 } });
   * ```
   */
  async getCartoDwClient(
    options: Omit<CartoDwClientOptions, "credentials" | "initialCredentials"> =
      {},
  ): Promise<CartoDwClient> {
    const initialCredentials = await this.#dwCredentials();
    return new CartoDwClient({
      fetch: this.#options.fetch,
      endpoint: this.#endpoints.bigquery,
      ...options,
      initialCredentials,
      credentials: () => this.#dwCredentials(),
    });
  }

  /**
   * `fetch` with the access token. A path starting with `/` is appended to
   * the API base URL. The token is only sent to the API's origin, never after
   * a redirect to another one; a 401 renews the token once and retries.
   *
   * @example
   * ```ts
   * import { CartoAuth } from "@carto/auth";
   *
   * const auth = await CartoAuth.fromOAuth();
   * const res = await auth.fetch("/v3/sql/carto_dw/query?q=select%201");
   * ```
   */
  async fetch(
    input: string | URL | Request,
    init?: RequestInit,
  ): Promise<Response> {
    const request = new Request(this.#resolve(input), init);
    // Only requests that can be repeated safely are retried; the body streams.
    const retries = ["GET", "HEAD", "OPTIONS"].includes(request.method) ? 2 : 0;
    return await this.#authorizedFetch(
      request,
      (url, init) =>
        send("CARTO API", url, init, {
          ...this.#http,
          retries,
          buffer: false,
          signal: request.signal,
        }),
    );
  }

  /**
   * Runs `sql` through the CARTO SQL API on `connection` (`carto_dw` or a
   * connection name of the account): GET for short queries, POST for long
   * ones. SQL errors are a {@linkcode CredentialsError} with the API's message.
   *
   * @example
   * ```ts
   * import { CartoAuth } from "@carto/auth";
   *
   * const auth = await CartoAuth.fromOAuth();
   * const { rows } = await auth.querySql("carto_dw", "SELECT 1 AS n");
   * ```
   */
  async querySql(
    connection: string,
    sql: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<SqlApiResult> {
    if (!this.#apiBaseUrl) await this.getAccessToken();
    if (!this.#apiBaseUrl) throw this.#noApiBaseUrl();
    const what = "CARTO SQL API";
    const path = `${this.#apiBaseUrl}/v3/sql/${
      encodeURIComponent(connection)
    }/query`;
    const short = `${path}?q=${encodeURIComponent(sql)}`;
    const isGet = short.length <= MAX_GET_URL;
    const request = isGet
      ? new Request(short, { headers: { accept: "application/json" } })
      : new Request(path, {
        method: "POST",
        headers: {
          accept: "application/json",
          "content-type": "application/json",
        },
        body: JSON.stringify({ q: sql }),
      });
    const response = await this.#authorizedFetch(
      request,
      (url, init) =>
        send(what, url, init, {
          ...this.#http,
          maxBytes: SQL_MAX_BYTES,
          retries: isGet ? 2 : 0,
          signal: options.signal,
        }),
    );
    const body = await readJson(response, what, "Log in again.");
    if (!Array.isArray(body.rows)) {
      throw new CredentialsError(
        `${what} (${path}) answered without rows. Check the connection name.`,
        { code: "bad_response", endpoint: path },
      );
    }
    return {
      rows: body.rows as Record<string, unknown>[],
      schema: Array.isArray(body.schema) ? body.schema as SqlApiField[] : [],
      meta: (body.meta ?? {}) as Record<string, unknown>,
    };
  }

  async #authorizedFetch(
    request: Request,
    transport: (url: string, init: RequestInit) => Promise<Response>,
  ): Promise<Response> {
    const base = this.#apiBaseUrl
      ? new URL(this.#apiBaseUrl).origin
      : undefined;
    if (new URL(request.url).origin !== base) {
      return (this.#options.fetch ?? globalThis.fetch)(request);
    }
    const body = request.body ? await request.arrayBuffer() : undefined;
    let token = await this.getAccessToken();
    let response = await this.#followRedirects(request, body, token, transport);
    if (response.status === 401) {
      await response.body?.cancel();
      token = (await this.#renew(token)).accessToken;
      response = await this.#followRedirects(request, body, token, transport);
    }
    return response;
  }

  /**
   * Forgets the token, removes it from the cache and, when there is an OAuth
   * refresh token, revokes it with Auth0 (access tokens cannot be revoked;
   * they expire by themselves). A failed revocation is reported through
   * `log`; the local logout still happens.
   */
  async logout(): Promise<void> {
    const refreshToken = this.#token?.refreshToken ??
      (await this.#readCache())?.refreshToken;
    this.#token = undefined;
    await this.#store?.delete(this.#mode);
    if (!refreshToken) return;
    try {
      const response = await revocationRequest({
        endpoints: this.#endpoints,
        http: this.#http,
        refreshToken,
      });
      await processRevocationResponse(response);
    } catch (e) {
      this.#log(
        `carto-auth: logged out here, but the refresh token could not be revoked: ${
          (e as Error).message
        }`,
      );
    }
  }

  #resolve(input: string | URL | Request): string | Request {
    if (typeof input === "string" && input.startsWith("/")) {
      if (!this.#apiBaseUrl) throw this.#noApiBaseUrl();
      return this.#apiBaseUrl + input;
    }
    return input instanceof URL ? input.href : input;
  }

  /** Follows redirects by hand so the token never travels to another origin. */
  async #followRedirects(
    request: Request,
    body: ArrayBuffer | undefined,
    token: string,
    transport: (url: string, init: RequestInit) => Promise<Response>,
  ): Promise<Response> {
    const origin = new URL(request.url).origin;
    let url = request.url;
    let method = request.method;
    for (let hop = 0; hop < 10; hop++) {
      const headers = new Headers(request.headers);
      if (new URL(url).origin === origin) {
        headers.set("authorization", `Bearer ${token}`);
      } else headers.delete("authorization");
      const response = await transport(url, {
        method,
        headers,
        body: method === "GET" || method === "HEAD" ? undefined : body,
        redirect: "manual",
        signal: request.signal,
      });
      const location = response.headers.get("location");
      if (response.status < 300 || response.status >= 400 || !location) {
        return response;
      }
      await response.body?.cancel();
      url = new URL(location, url).href;
      if (
        response.status === 303 || (response.status <= 302 && method === "POST")
      ) method = "GET";
    }
    throw new CredentialsError(
      `Too many redirects from ${new URL(request.url).origin}.`,
      {
        code: "bad_response",
      },
    );
  }

  #isFresh(token: StoredToken): boolean {
    return token.expiration - this.#leeway > Date.now() / 1000;
  }

  /** Whether a cached token may stand in for this instance's credentials. */
  #matches(token: StoredToken): boolean {
    if (this.#mode === "m2m") {
      return token.clientId === undefined ||
        token.clientId === this.#options.clientId;
    }
    return (token.org ?? undefined) === (this.#options.org ?? undefined);
  }

  /** One renewal at a time; `rejected` is a token the server refused. */
  #renew(rejected?: string): Promise<StoredToken> {
    this.#renewal ??= this.#obtain(rejected).finally(() => {
      this.#renewal = undefined;
    });
    return this.#renewal;
  }

  async #obtain(rejected?: string): Promise<StoredToken> {
    // Renewals that need no person run under the store's lock (when it has
    // one), so parallel processes do not stampede the token endpoint or spend
    // one rotating refresh token twice. A login never holds the lock.
    const store = this.#store;
    const renew = () => this.#renewSilently(rejected);
    const renewed = store?.lock
      ? await store.lock(this.#mode, renew)
      : await renew();
    if (renewed) return renewed;
    const tokens = await this.#login();
    // A new login may be another person's: find their account again.
    if (!this.#apiBaseUrlPinned) {
      this.#apiBaseUrl = await this.#discover(tokens.accessToken);
    }
    return this.#adopt(this.#stored(tokens), true);
  }

  /** A fresh cached token, or one from client credentials or the refresh token; else `undefined`. */
  async #renewSilently(rejected?: string): Promise<StoredToken | undefined> {
    const cached = await this.#readCache();
    if (cached && cached.accessToken !== rejected && this.#isFresh(cached)) {
      const known = this.#apiBaseUrl ?? cached.apiBaseUrl;
      if (known) return this.#adopt(cached, false);
      // A Python file may hold a token without api_base_url: find it, keep the token.
      this.#apiBaseUrl = await this.#discover(cached.accessToken);
      return this.#adopt(cached, true);
    }
    const refreshToken = this.#token?.refreshToken ?? cached?.refreshToken;
    const tokens = this.#mode === "m2m"
      ? await this.#clientCredentials()
      : refreshToken
      ? await this.#refresh(refreshToken)
      : undefined;
    if (!tokens) return undefined;
    if (!this.#apiBaseUrl) {
      this.#apiBaseUrl = await this.#discover(tokens.accessToken);
    }
    // A refresh answer without a new refresh token leaves the old one valid.
    return this.#adopt(
      this.#stored({
        ...tokens,
        refreshToken: tokens.refreshToken ?? refreshToken,
      }),
      true,
    );
  }

  #stored(tokens: TokenSet): StoredToken {
    return {
      accessToken: tokens.accessToken,
      expiration: tokens.expiration,
      apiBaseUrl: this.#apiBaseUrl,
      refreshToken: this.#mode === "oauth" ? tokens.refreshToken : undefined,
      clientId: this.#mode === "m2m" ? this.#options.clientId : undefined,
      org: this.#mode === "oauth" ? this.#options.org : undefined,
    };
  }

  async #discover(accessToken: string): Promise<string> {
    const { discoverAccount } = await import("./discovery.ts");
    const account = await discoverAccount(accessToken, {
      endpoints: this.#endpoints,
      http: this.#http,
    });
    return account.apiBaseUrl;
  }

  async #adopt(token: StoredToken, save: boolean): Promise<StoredToken> {
    if (!this.#apiBaseUrlPinned && token.apiBaseUrl) {
      this.#apiBaseUrl = token.apiBaseUrl;
    }
    this.#token = { ...token, apiBaseUrl: this.#apiBaseUrl };
    if (save && this.#store && Number.isFinite(token.expiration)) {
      await this.#store.set(this.#mode, this.#token).catch((e: Error) =>
        this.#log(
          `carto-auth: the token works but could not be cached: ${e.message}`,
        )
      );
    }
    return this.#token;
  }

  async #readCache(): Promise<StoredToken | undefined> {
    if (!this.#store) return undefined;
    const cached = await this.#store.get(this.#mode).catch(() => undefined);
    return cached && this.#matches(cached) ? cached : undefined;
  }

  async #clientCredentials(): Promise<TokenSet> {
    const { clientId, clientSecret } = this.#options;
    if (!clientId || !clientSecret) {
      throw new CredentialsError(
        "The M2M token has expired and there are no client credentials to renew it. " +
          "Create the CartoAuth with clientId and clientSecret, or use CartoAuth.fromM2M().",
        { code: "login_required" },
      );
    }
    const response = await clientCredentialsRequest({
      endpoints: this.#endpoints,
      http: this.#http,
      clientId,
      clientSecret,
    });
    return processClientCredentialsResponse(
      this.#endpoints,
      clientId,
      response,
    );
  }

  /** Renews with the refresh token; `undefined` when the server no longer accepts it. */
  async #refresh(refreshToken: string): Promise<TokenSet | undefined> {
    try {
      const response = await refreshTokenRequest({
        endpoints: this.#endpoints,
        http: this.#http,
        refreshToken,
      });
      return await processRefreshTokenResponse(this.#endpoints, response);
    } catch (e) {
      if (e instanceof CredentialsError && e.code === "invalid_credentials") {
        return undefined;
      }
      throw e;
    }
  }

  async #login(): Promise<TokenSet> {
    const o = this.#options;
    if (o.interactive === false) {
      throw new CredentialsError(
        "You are not logged in to CARTO, or the login has expired. Run `carto-auth login`, " +
          "or use M2M credentials for unattended work.",
        { code: "login_required" },
      );
    }
    const [{ interactiveLogin }, { resolveOrganization }] = await Promise.all([
      import("./oauth/login.ts"),
      import("./discovery.ts"),
    ]);
    const http = this.#http;
    const organization = o.org
      ? await resolveOrganization(o.org, { endpoints: this.#endpoints, http })
      : undefined;
    return interactiveLogin({
      endpoints: this.#endpoints,
      http,
      organization,
      openBrowser: o.openBrowser ?? true,
      prompt: o.prompt,
      redirectPort: o.redirectPort ?? DEFAULT_REDIRECT_PORT,
      timeoutMs: o.loginTimeoutMs,
      log: this.#log,
    });
  }

  async #dwCredentials(): Promise<DwCredentials> {
    if (!this.#apiBaseUrl) await this.getAccessToken();
    const base = this.#apiBaseUrl;
    if (!base) throw this.#noApiBaseUrl();
    const what = "CARTO DW token endpoint";
    const response = await this.#authorizedFetch(
      new Request(`${base}/v3/connections/carto-dw/token`, {
        headers: { accept: "application/json" },
      }),
      (url, init) => send(what, url, init, this.#http),
    );
    const body = await readJson(response, what, "Log in again.");
    for (const key of ["projectId", "token"] as const) {
      if (typeof body[key] !== "string" || !body[key]) {
        throw new CredentialsError(
          `Invalid attributes in CARTO DW token response: no ${key}. ` +
            `Make sure the API base URL (${base}) is right and the account has the CARTO Data Warehouse.`,
          { code: "bad_response" },
        );
      }
    }
    return { projectId: body.projectId as string, token: body.token as string };
  }

  #noApiBaseUrl(): CredentialsError {
    return new CredentialsError(
      "api_base_url required: the API base URL is unknown. Pass apiBaseUrl " +
        "(e.g. https://gcp-us-east1.api.carto.com), or log in with CartoAuth.fromOAuth().",
      { code: "invalid_input" },
    );
  }
}

function defaultStore(cacheFilepath?: string): TokenStore {
  if (cacheFilepath !== undefined || nodeBuiltin("node:fs/promises")) {
    return new FileTokenStore({ path: cacheFilepath });
  }
  return new MemoryTokenStore();
}
