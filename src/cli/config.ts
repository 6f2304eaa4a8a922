/** What the environment configures: endpoints, the token cache, M2M credentials. */
import { type Endpoints, normalizeBaseUrl } from "../endpoints.ts";
import { CredentialsError } from "../errors.ts";
import { FileTokenStore } from "../stores/file.ts";
import { CliError, EXIT } from "./errors.ts";
import { env, stderr } from "./io.ts";
import { safeText } from "./safe_text.ts";
import { currentProfile } from "./profiles.ts";

/** Renew this long before expiry: the library's default, used by every command (and by cli.ts's `token` fast path). */
export const LEEWAY_SECONDS = 60;

/** The environment variables the CLI reads, with what they do (for `--help` and docs). */
export const ENVIRONMENT: [name: string, meaning: string][] = [
  [
    "CARTO_API_TOKEN",
    "an access token used as is by every command (login refuses while it is set)",
  ],
  ["CARTO_CLIENT_ID", "M2M client id (with CARTO_CLIENT_SECRET: use M2M)"],
  ["CARTO_CLIENT_SECRET", "M2M client secret"],
  [
    "CARTO_API_BASE_URL",
    "API base URL for M2M and CARTO_API_TOKEN, e.g. https://gcp-us-east1.api.carto.com",
  ],
  ["CARTO_AUTH_CACHE_DIR", "folder of the token cache, default ~/.carto-auth"],
  [
    "CARTO_PROFILE",
    "the profile to use (as --profile; wins over carto-auth use)",
  ],
  ["BROWSER", "command that opens the login URL (CARTO_BROWSER wins over it)"],
  ["CI", "when set, nothing prompts: a needed login fails with exit code 4"],
  ["NO_COLOR", "when set, no colours"],
  [
    "CARTO_AUTH_URL, CARTO_ACCOUNTS_URL, CARTO_BIGQUERY_URL",
    "endpoint overrides (tests, the fake CARTO)",
  ],
];

/** Endpoints with the `CARTO_AUTH_URL`, `CARTO_ACCOUNTS_URL`, `CARTO_BIGQUERY_URL` overrides. */
export function endpointsFromEnv(): Partial<Endpoints> {
  const out: Partial<Endpoints> = {};
  const vars = [
    ["auth", "CARTO_AUTH_URL"],
    ["accounts", "CARTO_ACCOUNTS_URL"],
    ["bigquery", "CARTO_BIGQUERY_URL"],
  ] as const;
  for (const [key, name] of vars) {
    const value = env(name);
    if (value !== undefined) out[key] = checkedUrl(value, name);
  }
  return out;
}

/** `value` as a base URL, or a {@linkcode CliError} naming `what`. */
export function checkedUrl(value: string, what: string): string {
  try {
    return normalizeBaseUrl(value, what);
  } catch (e) {
    if (e instanceof CredentialsError) {
      throw new CliError(e.message, EXIT.usage);
    }
    throw e;
  }
}

/** Warnings of the token store go to stderr. */
function warn(message: string): void {
  void stderr.write(`${safeText(message)}\n`);
}

/**
 * The token cache of `profile` (default: the one this command uses) in
 * `CARTO_AUTH_CACHE_DIR`, else `~/.carto-auth`.
 */
export async function tokenStore(profile?: string): Promise<FileTokenStore> {
  return new FileTokenStore({
    dir: env("CARTO_AUTH_CACHE_DIR"),
    profile: profile ?? (await currentProfile()).name,
    onWarning: warn,
  });
}

/** Common options for `CartoAuth`: endpoints from the environment, messages on stderr. */
export function commonOptions(): {
  endpoints: Partial<Endpoints>;
  log: (message: string) => void;
  leewaySeconds: number;
} {
  return {
    endpoints: endpointsFromEnv(),
    log: warn,
    leewaySeconds: LEEWAY_SECONDS,
  };
}
