import { CartoDwClient, type CartoDwClientOptions } from "./dw/client.ts";
import { DEFAULT_CREDENTIALS_TTL_MS } from "./dw/credentials.ts";
import {
  type Endpoints,
  normalizeBaseUrl,
  resolveEndpoints,
} from "./endpoints.ts";
import { CredentialsError } from "./errors.ts";
import { jwtExpiration } from "./jwt.ts";
import type { HttpOptions } from "./http.ts";
import {
  type M2MCredentials,
  parseM2MCredentials,
  readM2MCredentialsFile,
} from "./m2m.ts";
import { fileStore } from "./extras.ts";
import { MemoryTokenStore } from "./stores/memory.ts";
import type { TokenStore } from "./stores/types.ts";
import {
  fetchDwCredentials,
  querySqlApi,
  type SqlApiResult,
} from "./auth/carto_api.ts";
import { loginToken } from "./auth/grants.ts";
import type {
  CartoAuthOptions,
  M2MOptions,
  Mode,
  OAuthOptions,
} from "./auth/options.ts";
import { TokenSession } from "./auth/session.ts";
import { SharedDwCredentials } from "./auth/shared_dw.ts";
import { authorizedFetch } from "./auth/transport.ts";
import { send } from "./http.ts";

export type { SqlApiField, SqlApiResult } from "./auth/carto_api.ts";
export type {
  CartoAuthOptions,
  CommonOptions,
  M2MOptions,
  Mode,
  OAuthOptions,
} from "./auth/options.ts";

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
  readonly #session: TokenSession;
  readonly #dw: SharedDwCredentials;

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
    const log = options.log ?? ((m: string) => console.error(m));
    const grants = { endpoints: this.#endpoints, http: this.#http };
    const store = options.useCache === false ? undefined : storeOf(options);
    this.#session = new TokenSession({
      mode: options.mode,
      endpoints: this.#endpoints,
      http: this.#http,
      store,
      leewaySeconds: options.leewaySeconds ?? 60,
      log,
      apiBaseUrl: options.apiBaseUrl === undefined
        ? undefined
        : normalizeBaseUrl(options.apiBaseUrl, "apiBaseUrl"),
      token: options.accessToken
        ? {
          accessToken: options.accessToken,
          expiration: options.expiration ??
            jwtExpiration(options.accessToken) ?? Infinity,
          refreshToken: options.refreshToken,
        }
        : undefined,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      org: options.org,
      login: () => loginToken(grants, options, log),
    });
    this.#dw = new SharedDwCredentials({
      key: `${options.mode}_dw`,
      store,
      ttlMs: DEFAULT_CREDENTIALS_TTL_MS,
      accessToken: () => this.#session.accessToken(),
      apiBaseUrl: () => this.#session.apiBaseUrl,
      fetchFresh: async () =>
        fetchDwCredentials(
          this.#session,
          await this.#knownApiBaseUrl(),
          this.#http,
        ),
    });
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
    return this.#session.token?.expiration;
  }

  /** The resolved endpoints this instance talks to. */
  get endpoints(): Readonly<Endpoints> {
    return this.#endpoints;
  }

  /** The API base URL of the account, e.g. `https://gcp-us-east1.api.carto.com`. */
  getApiBaseUrl(): string | undefined {
    return this.#session.apiBaseUrl;
  }

  /**
   * A valid access token: the one held, else the cache's, else a new one
   * (M2M silently; OAuth with the refresh token, else a login). Concurrent
   * calls share one renewal.
   */
  getAccessToken(): Promise<string> {
    return this.#session.accessToken();
  }

  /**
   * The CARTO Data Warehouse project id and a Google OAuth token for it
   * (valid about one hour). Kept in the token store like the access token
   * (under `<mode>_dw`) and renewed once for all concurrent callers, under
   * the store's lock when it has one: a fleet sharing a store makes one DW
   * token request per token lifetime.
   */
  async getCartoDwCredentials(): Promise<[projectId: string, token: string]> {
    const { projectId, token } = await this.#dw.get();
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
    const initialCredentials = await this.#dw.get();
    return new CartoDwClient({
      fetch: this.#options.fetch,
      endpoint: this.#endpoints.bigquery,
      ...options,
      initialCredentials,
      credentials: (replaced) => this.#dw.get(replaced),
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
    return await authorizedFetch(
      this.#session,
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
    return querySqlApi(
      this.#session,
      await this.#knownApiBaseUrl(),
      this.#http,
      connection,
      sql,
      options.signal,
    );
  }

  /**
   * Forgets the token, removes it from the cache and, when there is an OAuth
   * refresh token, revokes it with Auth0 (access tokens cannot be revoked;
   * they expire by themselves). A failed revocation is reported through
   * `log`; the local logout still happens.
   */
  async logout(): Promise<void> {
    await this.#session.logout();
    await this.#dw.forget();
  }

  #resolve(input: string | URL | Request): string | Request {
    if (typeof input === "string" && input.startsWith("/")) {
      const base = this.#session.apiBaseUrl;
      if (!base) throw noApiBaseUrl();
      return base + input;
    }
    return input instanceof URL ? input.href : input;
  }

  /** The API base URL, obtaining a token first when it is not known yet. */
  async #knownApiBaseUrl(): Promise<string> {
    if (!this.#session.apiBaseUrl) await this.getAccessToken();
    const base = this.#session.apiBaseUrl;
    if (!base) throw noApiBaseUrl();
    return base;
  }
}

function noApiBaseUrl(): CredentialsError {
  return new CredentialsError(
    "api_base_url required: the API base URL is unknown. Pass apiBaseUrl " +
      "(e.g. https://gcp-us-east1.api.carto.com), or log in with CartoAuth.fromOAuth().",
    { code: "invalid_input" },
  );
}

function storeOf(
  { store, cacheFilepath, profile }: CartoAuthOptions,
): TokenStore {
  if (profile !== undefined && (store || cacheFilepath !== undefined)) {
    throw new CredentialsError(
      `profile and ${
        store ? "store" : "cacheFilepath"
      } both say where tokens go: pass one of them.`,
      { code: "invalid_input" },
    );
  }
  if (store) return store;
  return fileStore({ path: cacheFilepath, profile }) ?? new MemoryTokenStore();
}
