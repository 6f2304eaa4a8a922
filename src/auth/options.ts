import type { Endpoints } from "../endpoints.ts";
import type { OpenBrowser, Prompt } from "../oauth/login.ts";
import type { TokenStore } from "../stores/types.ts";

/** How a {@linkcode CartoAuth} obtains tokens. */
export type Mode = "oauth" | "m2m";

/** Options every way of creating a {@linkcode CartoAuth} takes. */
export interface CommonOptions {
  /** The token cache file; default `~/.carto-auth/token_<mode>.json` where a file system exists. */
  cacheFilepath?: string;
  /** Where tokens are kept instead of the file (KV in workers, memory, …). */
  store?: TokenStore;
  /**
   * A named profile of the file cache, for several accounts side by side:
   * `~/.carto-auth/profiles/<profile>/token_<mode>.json` (the CLI's
   * `--profile`). Default: the Python-compatible files. Not with
   * `cacheFilepath` or `store`, which say where tokens go themselves.
   */
  profile?: string;
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
   * browser (tests, apps with their own UI): it gets the login's one-time
   * start link, to open in the browser that finishes the login.
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
