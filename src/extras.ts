/**
 * What `@carto/auth` and the CLI bring beyond `@carto/auth/worker`: the YAML
 * parser of API-base-URL discovery, the login in a browser, and the token
 * files of this machine. The core asks for them here; `extras_full.ts`,
 * imported for its effect by those doors only, provides them. So no bundler
 * finds a way from `worker.ts` to any of them, whatever its resolution rules
 * (package.json conditions for npm, the import map for JSR), and wrangler,
 * which inlines dynamic imports, leaves them out too.
 */
import { CredentialsError } from "./errors.ts";
import type { InteractiveLoginOptions } from "./oauth/login.ts";
import type { TokenSet } from "./oauth/token.ts";
import type { FileTokenStoreOptions } from "./stores/file.ts";
import type { TokenStore } from "./stores/types.ts";

/** Parses YAML text; `undefined` when it is not YAML. */
export type ParseYaml = (text: string) => unknown;

/** The capabilities of the full doors. */
export interface Extras {
  /** Loads the YAML parser. */
  yamlParser(): Promise<ParseYaml>;
  /** Loads the login of a person in a browser (or by pasting a code). */
  interactiveLogin(): Promise<
    (options: InteractiveLoginOptions) => Promise<TokenSet>
  >;
  /** The file store, or `undefined` where there is no file system. */
  fileStore(options: FileTokenStoreOptions): TokenStore | undefined;
}

let provided: Extras | undefined;

/** Called by the full doors (`mod.ts`, the CLI) for its effect. */
export function provideExtras(extras: Extras): void {
  provided ??= extras;
}

/** The YAML parser; without the full door, a `CredentialsError` asking for `apiBaseUrl`. */
export async function yamlParser(): Promise<ParseYaml> {
  if (!provided) {
    throw leftOut(
      "Finding the API base URL needs the tenant's config.yaml, and",
      "the YAML parser",
      "apiBaseUrl (e.g. https://gcp-us-east1.api.carto.com)",
    );
  }
  return await provided.yamlParser();
}

/** The browser login; without the full door, a `CredentialsError` (`login_required`). */
export async function interactiveLogin(
  options: InteractiveLoginOptions,
): Promise<TokenSet> {
  if (!provided) {
    throw new CredentialsError(
      "You are not logged in to CARTO, and @carto/auth/worker has no login in a browser. " +
        "Log in with `carto-auth login` where there is a browser, or use M2M credentials.",
      { code: "login_required" },
    );
  }
  return (await provided.interactiveLogin())(options);
}

/**
 * The file store for these options; `undefined` where there is none (a
 * worker) and no file was asked for. Asking for a file (`path`, `profile`)
 * without the full door is a `CredentialsError`.
 */
export function fileStore(
  options: FileTokenStoreOptions,
): TokenStore | undefined {
  const asked = options.path !== undefined || options.profile !== undefined;
  if (!provided) {
    if (!asked) return undefined;
    throw leftOut(
      `${
        options.path !== undefined ? "cacheFilepath" : "profile"
      } names token files, and`,
      "the file store",
      "a store (e.g. a MemoryTokenStore or a KV store)",
    );
  }
  return provided.fileStore(options);
}

function leftOut(
  why: string,
  what: string,
  instead: string,
): CredentialsError {
  return new CredentialsError(
    `${why} @carto/auth/worker leaves ${what} out. Import @carto/auth, or pass ${instead}.`,
    { code: "invalid_input" },
  );
}
