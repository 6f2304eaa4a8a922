/**
 * The token session: which token is held, when it is fresh, where it is
 * cached, and how it is renewed — once for all concurrent callers, under the
 * store's lock when it has one.
 */
import { type Endpoints, normalizeBaseUrl } from "../endpoints.ts";
import type { HttpOptions } from "../http.ts";
import { type TokenSet, UnansweredGrantError } from "../oauth/token.ts";
import type { StoredToken, TokenStore } from "../stores/types.ts";
import {
  clientCredentialsToken,
  type GrantContext,
  refreshedToken,
  revokeRefreshToken,
} from "./grants.ts";
import type { Mode } from "./options.ts";
import { withProcessLock } from "./process_lock.ts";
import type { TokenSource } from "./transport.ts";

/** What a {@linkcode TokenSession} needs. */
export interface TokenSessionOptions {
  mode: Mode;
  endpoints: Endpoints;
  http: HttpOptions;
  /** The cache; none when caching is off. */
  store?: TokenStore;
  /** Renew this many seconds before expiry. */
  leewaySeconds: number;
  /** Messages for a person. */
  log: (message: string) => void;
  /** An API base URL given by the caller: it wins over the cache and discovery. */
  apiBaseUrl?: string;
  /** A token given by the caller. */
  token?: StoredToken;
  /** M2M client credentials. */
  clientId?: string;
  clientSecret?: string;
  /** The SSO organization a cached OAuth token must belong to. */
  org?: string;
  /** A person's login, for when nothing silent works (OAuth only). */
  login: () => Promise<TokenSet>;
}

/** Holds, caches and renews the access token of one {@linkcode CartoAuth}. */
export class TokenSession implements TokenSource {
  readonly #o: TokenSessionOptions;
  readonly #grants: GrantContext;
  readonly #pinned: boolean;
  #apiBaseUrl?: string;
  #token?: StoredToken;
  #renewal?: Promise<StoredToken>;

  constructor(options: TokenSessionOptions) {
    this.#o = options;
    this.#grants = { endpoints: options.endpoints, http: options.http };
    this.#pinned = options.apiBaseUrl !== undefined;
    this.#apiBaseUrl = options.apiBaseUrl;
    this.#token = options.token;
  }

  /** The API base URL: given, cached or discovered. */
  get apiBaseUrl(): string | undefined {
    return this.#apiBaseUrl;
  }

  /** The token held, if any. */
  get token(): StoredToken | undefined {
    return this.#token;
  }

  /** The plain transport, for requests that carry no token. */
  get fetch(): typeof fetch | undefined {
    return this.#o.http.fetch;
  }

  /** A fresh access token, renewing when needed. */
  accessToken(): Promise<string> {
    const token = this.#token;
    if (token && this.#isFresh(token)) {
      return Promise.resolve(token.accessToken);
    }
    return this.renew().then((t) => t.accessToken);
  }

  /** One renewal at a time; `rejected` is a token the server refused. */
  renew(rejected?: string): Promise<StoredToken> {
    this.#renewal ??= this.#obtain(rejected).finally(() => {
      this.#renewal = undefined;
    });
    return this.#renewal;
  }

  /** A new access token after the API refused `rejected`. */
  async renewedAccessToken(rejected: string): Promise<string> {
    return (await this.renew(rejected)).accessToken;
  }

  /** Forgets the token, removes it from the cache and revokes its refresh token. */
  async logout(): Promise<void> {
    const refreshToken = this.#token?.refreshToken ??
      (await this.#readCache())?.refreshToken;
    this.#token = undefined;
    await this.#o.store?.delete(this.#o.mode);
    if (refreshToken) {
      await revokeRefreshToken(this.#grants, refreshToken, this.#o.log);
    }
  }

  #isFresh(token: StoredToken): boolean {
    return token.expiration - this.#o.leewaySeconds > Date.now() / 1000;
  }

  /** Whether a cached token may stand in for this session's credentials. */
  #matches(token: StoredToken): boolean {
    if (this.#o.mode === "m2m") {
      return token.clientId === undefined ||
        token.clientId === this.#o.clientId;
    }
    return (token.org ?? undefined) === (this.#o.org ?? undefined);
  }

  async #obtain(rejected?: string): Promise<StoredToken> {
    // Renewals that need no person run under the store's lock (when it has
    // one), so parallel processes do not stampede the token endpoint or spend
    // one rotating refresh token twice. A login never holds the lock.
    const store = this.#o.store;
    // A fresh token in the store needs no lock: a fleet member's cold start is one read.
    const fresh = store?.lock
      ? await this.#adoptFresh(await this.#readCache(), rejected)
      : undefined;
    if (fresh) return fresh;
    const key = this.#o.mode;
    const renew = () => this.#renewSilently(rejected);
    const renewed = store
      ? await withProcessLock(
        store,
        key,
        () => store.lock ? store.lock(key, renew) : renew(),
      )
      : await renew();
    if (renewed) return renewed;
    const tokens = await this.#o.login();
    // A new login may be another person's: find their account again.
    if (!this.#pinned) {
      this.#apiBaseUrl = await this.#discover(tokens.accessToken);
    }
    return this.#adopt(this.#stored(tokens), true);
  }

  /** A fresh cached token, or one from client credentials or the refresh token; else `undefined`. */
  async #renewSilently(rejected?: string): Promise<StoredToken | undefined> {
    const cached = await this.#readCache();
    const fresh = await this.#adoptFresh(cached, rejected);
    if (fresh) return fresh;
    // The store's refresh token is the newest: another instance may have rotated ours.
    const refreshToken = cached?.refreshToken ?? this.#token?.refreshToken;
    const tokens = this.#o.mode === "m2m"
      ? await clientCredentialsToken(
        this.#grants,
        this.#o.clientId,
        this.#o.clientSecret,
      )
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

  /** The refresh grant; a refresh token that may be spent without an answer is forgotten. */
  async #refresh(refreshToken: string): Promise<TokenSet | undefined> {
    try {
      return await refreshedToken(this.#grants, refreshToken);
    } catch (e) {
      if (e instanceof UnansweredGrantError) {
        if (this.#token?.refreshToken === refreshToken) {
          this.#token = { ...this.#token, refreshToken: undefined };
        }
        const cached = await this.#readCache();
        if (cached?.refreshToken === refreshToken) {
          await this.#o.store?.set(this.#o.mode, {
            ...cached,
            refreshToken: undefined,
          }).catch(() => {});
        }
      }
      throw e;
    }
  }

  /** `cached`, adopted, when it is fresh and not `rejected`. */
  async #adoptFresh(
    cached: StoredToken | undefined,
    rejected?: string,
  ): Promise<StoredToken | undefined> {
    if (!cached || cached.accessToken === rejected || !this.#isFresh(cached)) {
      return undefined;
    }
    const known = this.#apiBaseUrl ?? cached.apiBaseUrl;
    if (known) return this.#adopt(cached, false);
    // A Python file may hold a token without api_base_url: find it, keep the token.
    this.#apiBaseUrl = await this.#discover(cached.accessToken);
    return this.#adopt(cached, true);
  }

  #stored(tokens: TokenSet): StoredToken {
    const oauth = this.#o.mode === "oauth";
    return {
      accessToken: tokens.accessToken,
      expiration: tokens.expiration,
      apiBaseUrl: this.#apiBaseUrl,
      refreshToken: oauth ? tokens.refreshToken : undefined,
      clientId: oauth ? undefined : this.#o.clientId,
      org: oauth ? this.#o.org : undefined,
    };
  }

  async #discover(accessToken: string): Promise<string> {
    const { discoverAccount } = await import("../discovery.ts");
    return (await discoverAccount(accessToken, this.#grants)).apiBaseUrl;
  }

  async #adopt(token: StoredToken, save: boolean): Promise<StoredToken> {
    if (!this.#pinned && token.apiBaseUrl) {
      this.#apiBaseUrl = token.apiBaseUrl;
    }
    this.#token = { ...token, apiBaseUrl: this.#apiBaseUrl };
    const store = this.#o.store;
    if (save && store && Number.isFinite(token.expiration)) {
      await store.set(this.#o.mode, this.#token).catch((e: Error) =>
        this.#o.log(
          `carto-auth: the token works but could not be cached: ${e.message}`,
        )
      );
    }
    return this.#token;
  }

  async #readCache(): Promise<StoredToken | undefined> {
    const store = this.#o.store;
    if (!store) return undefined;
    const cached = await store.get(this.#o.mode).catch(() => undefined);
    if (!cached || !this.#matches(cached)) return undefined;
    if (!cached.apiBaseUrl) return cached;
    // The cache gets the checks of the apiBaseUrl option: the token goes there.
    try {
      const what = "The api_base_url of the cached token";
      return {
        ...cached,
        apiBaseUrl: normalizeBaseUrl(cached.apiBaseUrl, what),
      };
    } catch (e) {
      this.#o.log(
        `carto-auth: ignoring the cached token. ${(e as Error).message}`,
      );
      return undefined;
    }
  }
}
