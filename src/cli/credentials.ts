/**
 * Which credentials a command uses, and a `CartoAuth` over them.
 *
 * 1. `CARTO_API_TOKEN`, when set, is used as is.
 * 2. M2M with `--m2m` or `--credentials FILE`, or when `CARTO_CLIENT_ID` and
 *    `CARTO_CLIENT_SECRET` are set.
 * 3. Otherwise the cached login: the person's (OAuth) when there is one, else
 *    the machine's (M2M), else the person's (which then needs a login).
 *
 * This module stays light: `token` on a cache hit needs nothing else.
 */
import type { CartoAuth } from "../auth.ts";
import { resolveEndpoints } from "../endpoints.ts";
import { CredentialsError } from "../errors.ts";
import type { M2MCredentials } from "../m2m.ts";
import type { FileTokenStore } from "../stores/file.ts";
import type { StoredToken } from "../stores/types.ts";
import { commonOptions, LEEWAY_SECONDS, tokenStore } from "./config.ts";
import { CliError, EXIT, UsageError } from "./errors.ts";
import { currentProfile, profileArg, type ProfileChoice } from "./profiles.ts";
import { canPrompt, env, stdinIsTTY } from "./io.ts";
import type { LoginUi } from "./login_ui.ts";

/** Where a command's token comes from. */
export type Kind = "env" | "oauth" | "m2m";

/** How the caller asked for credentials. */
export interface Wanted {
  /** `--m2m`. */
  m2m?: boolean;
  /** `--credentials FILE`. */
  credentials?: string;
}

/** The credentials a command will use. */
export interface Selection {
  kind: Kind;
  /** The profile whose cache holds them. */
  profile: ProfileChoice;
  store: FileTokenStore;
  /** The cached token of `kind` (oauth, m2m). */
  cached?: StoredToken;
  wanted: Wanted;
}

/** Whether `token` can be used now, `LEEWAY_SECONDS` before it expires. */
export function isFresh(token: StoredToken, now = Date.now() / 1000): boolean {
  return token.expiration - LEEWAY_SECONDS > now;
}

/** Whether `CARTO_CLIENT_ID` and `CARTO_CLIENT_SECRET` are both set. */
export function m2mEnvSet(): boolean {
  return !!env("CARTO_CLIENT_ID") && !!env("CARTO_CLIENT_SECRET");
}

/** Picks the credentials a command uses (see the module's comment). */
export async function select(wanted: Wanted = {}): Promise<Selection> {
  const profile = await currentProfile();
  const store = await tokenStore(profile.name);
  const base = { profile, store, wanted };
  if (env("CARTO_API_TOKEN")) return { ...base, kind: "env" };
  if (wanted.m2m || wanted.credentials || m2mEnvSet()) {
    return { ...base, kind: "m2m", cached: await store.get("m2m") };
  }
  const oauth = await store.get("oauth");
  if (oauth) return { ...base, kind: "oauth", cached: oauth };
  const m2m = await store.get("m2m");
  if (m2m) return { ...base, kind: "m2m", cached: m2m };
  return { ...base, kind: "oauth" };
}

/**
 * The M2M credentials from `--credentials FILE`, else from the environment;
 * `undefined` when neither gives any. `apiBaseUrl` falls back to `fallbackApiBaseUrl`.
 */
export async function m2mCredentials(
  wanted: Wanted,
  fallbackApiBaseUrl?: string,
): Promise<M2MCredentials | undefined> {
  const m2m = await import("../m2m.ts");
  if (wanted.credentials) {
    return await m2m.readM2MCredentialsFile(
      wanted.credentials,
      commonOptions().log,
    );
  }
  const clientId = env("CARTO_CLIENT_ID");
  const clientSecret = env("CARTO_CLIENT_SECRET");
  if (!clientId && !clientSecret) return undefined;
  const missing = [
    ["CARTO_CLIENT_ID", clientId],
    ["CARTO_CLIENT_SECRET", clientSecret],
  ].filter(([, v]) => !v).map(([name]) => name);
  const apiBaseUrl = env("CARTO_API_BASE_URL") ?? fallbackApiBaseUrl;
  if (!apiBaseUrl) missing.push("CARTO_API_BASE_URL");
  if (missing.length) {
    throw new UsageError(
      `${missing.join(" and ")} ${
        missing.length > 1 ? "are" : "is"
      } not set. ` +
        `M2M credentials from the environment need CARTO_CLIENT_ID, CARTO_CLIENT_SECRET ` +
        `and CARTO_API_BASE_URL; or pass --credentials FILE.`,
    );
  }
  try {
    return m2m.parseM2MCredentials(
      { clientId, clientSecret, apiBaseUrl },
      "the environment (CARTO_CLIENT_ID, CARTO_CLIENT_SECRET, CARTO_API_BASE_URL)",
    );
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.usage);
  }
}

/** Options of {@linkcode openAuth}. */
export interface OpenOptions {
  /** How a login runs when one is needed; without it none may run. */
  login?: LoginUi;
}

/**
 * A `CartoAuth` over the selected credentials. It logs in only when
 * `options.login` is given and a person can answer (stdin is a terminal and
 * `CI` is not set).
 */
export async function openAuth(
  selection: Selection,
  options: OpenOptions = {},
): Promise<CartoAuth> {
  const { CartoAuth } = await import("../auth.ts");
  const common = commonOptions();
  if (selection.kind === "env") {
    const accessToken = env("CARTO_API_TOKEN")!;
    let apiBaseUrl = env("CARTO_API_BASE_URL");
    if (!apiBaseUrl) {
      const { discoverAccount } = await import("../discovery.ts");
      const endpoints = resolveEndpoints(common.endpoints);
      apiBaseUrl = (await guard(
        selection,
        () => discoverAccount(accessToken, { endpoints }),
      )).apiBaseUrl;
    }
    return new CartoAuth({
      ...common,
      mode: "oauth",
      accessToken,
      apiBaseUrl,
      useCache: false,
      interactive: false,
    });
  }
  if (selection.kind === "m2m") {
    const creds = await m2mCredentials(
      selection.wanted,
      selection.cached?.apiBaseUrl,
    );
    return new CartoAuth({
      ...common,
      mode: "m2m",
      store: selection.store,
      apiBaseUrl: creds?.apiBaseUrl ?? selection.cached?.apiBaseUrl,
      clientId: creds?.clientId ?? selection.cached?.clientId,
      clientSecret: creds?.clientSecret,
    });
  }
  const interactive = !!options.login && canPrompt();
  return new CartoAuth({
    ...common,
    mode: "oauth",
    store: selection.store,
    // The cache is the login of whichever organization it was made with.
    org: selection.cached?.org,
    interactive,
    ...(interactive ? options.login!.options : {}),
  });
}

/**
 * Runs `fn`, turning "a login is needed" into a message that fits how the
 * credentials were selected (exit code 4).
 */
export async function guard<T>(
  selection: Selection,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw explain(selection, e);
  }
}

function explain(selection: Selection, e: unknown): unknown {
  if (!(e instanceof CredentialsError)) return e;
  const refused = e.code === "invalid_credentials" ||
    e.code === "login_required" || e.status === 401;
  if (selection.kind === "env" && refused) {
    return new CliError(
      "CARTO_API_TOKEN was refused or has expired. Set a new token, or unset " +
        "CARTO_API_TOKEN to use your own login (carto-auth login).",
      EXIT.auth,
    );
  }
  if (e.code !== "login_required") return e;
  const p = profileArg(selection.profile.name);
  const inProfile = p ? ` (profile ${selection.profile.name})` : "";
  if (selection.kind === "m2m") {
    const how =
      "Pass --credentials FILE, or set CARTO_CLIENT_ID, CARTO_CLIENT_SECRET and " +
      "CARTO_API_BASE_URL";
    return new CliError(
      selection.cached
        ? `The cached M2M token${inProfile} has expired and there are no client credentials to renew it. ${how} (or run: carto-auth login --m2m${p}).`
        : `There is no M2M login${inProfile}: no cached M2M token and no client credentials. ${how}, or log the machine in first: carto-auth login --m2m --credentials FILE${p}`,
      EXIT.auth,
    );
  }
  const why = env("CI") !== undefined
    ? " No login was started because CI is set."
    : !stdinIsTTY()
    ? " No login was started because stdin is not a terminal."
    : "";
  return new CliError(
    selection.cached
      ? `Your CARTO login${inProfile} has expired.${why} Run: carto-auth login${p}`
      : `You are not logged in to CARTO${inProfile}.${why} Run: carto-auth login${p} ` +
        `(or, for a machine, carto-auth login --m2m${p})`,
    EXIT.auth,
  );
}
