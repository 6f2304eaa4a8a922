/** `carto-auth login`: a person (browser or paste) or a machine (M2M). */
import type { CartoAuth } from "../../auth.ts";
import type { StoredToken, TokenStore } from "../../stores/types.ts";
import { intFlag, type Parsed } from "../args.ts";
import { checkedUrl, commonOptions, tokenStore } from "../config.ts";
import { isFresh, m2mCredentials } from "../credentials.ts";
import {
  currentProfile,
  DEFAULT_PROFILE,
  type ProfileChoice,
  readState,
  updateState,
} from "../profiles.ts";
import type { FileTokenStore } from "../../stores/file.ts";
import { CredentialsError } from "../../errors.ts";
import { CliError, EXIT, UsageError } from "../errors.ts";
import { env, stderr, style } from "../io.ts";
import { tokenSubject } from "../jwt.ts";
import { safeLine } from "../safe_text.ts";
import type { Command } from "../main.ts";
import { expiryText } from "../time.ts";

const NAME = "login";

/** A store that saves the new login but never offers the old one. */
function writeOnly(store: TokenStore): TokenStore {
  return {
    get: () => Promise.resolve(undefined),
    set: (key: string, token: StoredToken) => store.set(key, token),
    delete: (key: string) => store.delete(key),
  };
}

/** `carto-auth login`. */
export const login: Command = {
  spec: {
    name: NAME,
    summary: "Log in to CARTO (browser, pasted code, or M2M client)",
    usage:
      "[--org NAME_OR_ID] [--api-base-url URL] [--no-browser] [--port N]\n" +
      "  carto-auth login --m2m [--credentials FILE] [--api-base-url URL]",
    description:
      "Opens CARTO in your browser and waits for it on http://localhost:10000. Where no\n" +
      "browser can be opened (SSH, no display, --no-browser) it prints a URL to open on any\n" +
      "device and reads the code that page shows. The token is cached in ~/.carto-auth\n" +
      "(or CARTO_AUTH_CACHE_DIR), in the same files as the Python carto-auth package.\n\n" +
      "With --m2m it logs a machine in with client credentials from --credentials FILE or\n" +
      "from CARTO_CLIENT_ID, CARTO_CLIENT_SECRET and CARTO_API_BASE_URL.",
    flags: {
      org: {
        type: "string",
        arg: "NAME_OR_ID",
        help: "log in through your organization's SSO (name or org_… id)",
      },
      "api-base-url": {
        type: "string",
        arg: "URL",
        help: "API base URL of your account (default: found after login)",
      },
      "no-browser": {
        type: "boolean",
        help: "do not open a browser: print the URL and paste the code",
      },
      port: {
        type: "string",
        arg: "N",
        help:
          "port of the local callback server (default 10000; 0 = any free port)",
      },
      m2m: {
        type: "boolean",
        help: "log a machine in with M2M client credentials",
      },
      credentials: {
        type: "string",
        arg: "FILE",
        help: "M2M credentials file (the Python format); implies --m2m",
      },
    },
    examples: [
      "$ carto-auth login",
      "$ carto-auth login --org acme",
      "$ carto-auth login --no-browser        # over SSH: open the URL anywhere, paste the code",
      "$ carto-auth login --m2m --credentials carto_credentials.json",
    ],
  },
  async run(parsed) {
    if (env("CARTO_API_TOKEN")) {
      throw new CliError(
        "CARTO_API_TOKEN is set, so every command uses it and a login would have no effect. " +
          "Unset it first: unset CARTO_API_TOKEN",
      );
    }
    const apiBaseUrl = parsed.flags["api-base-url"] === undefined
      ? undefined
      : checkedUrl(parsed.flags["api-base-url"] as string, "--api-base-url");
    const m2m = parsed.flags.m2m === true ||
      parsed.flags.credentials !== undefined;
    return m2m
      ? await m2mLogin(parsed, apiBaseUrl)
      : await oauthLogin(parsed, apiBaseUrl);
  },
};

async function oauthLogin(
  parsed: Parsed,
  apiBaseUrl: string | undefined,
): Promise<number> {
  const { flags } = parsed;
  const port = intFlag(flags.port as string | undefined, "port", NAME, {
    min: 0,
    max: 65535,
  });
  if (env("CI") !== undefined) {
    throw new CliError(
      "CI is set, so no interactive login is started. In CI log in with M2M credentials " +
        "(carto-auth login --m2m, or set CARTO_CLIENT_ID, CARTO_CLIENT_SECRET and " +
        "CARTO_API_BASE_URL), or set CARTO_API_TOKEN.",
      EXIT.auth,
    );
  }
  const org = flags.org as string | undefined;
  const { loginUi } = await import("../login_ui.ts");
  const ui = await loginUi({ noBrowser: flags["no-browser"] === true, port });
  const { CartoAuth } = await import("../../auth.ts");
  const profile = await currentProfile();
  const store = await tokenStore(profile.name);
  const auth = new CartoAuth({
    ...commonOptions(),
    ...ui.options,
    mode: "oauth",
    store: writeOnly(store),
    org,
    apiBaseUrl,
    interactive: true,
  });
  let accessToken: string;
  try {
    accessToken = await auth.getAccessToken();
  } catch (e) {
    throw org ? unknownOrganization(e, org) : e;
  } finally {
    ui.done();
  }
  let tenant: string | undefined;
  if (!apiBaseUrl) {
    const { discoverAccount } = await import("../../discovery.ts");
    tenant = await discoverAccount(accessToken, { endpoints: auth.endpoints })
      .then((a) => a.tenantDomain, () => undefined);
  }
  if (tenant) {
    await updateState((state) => ({
      ...state,
      tenants: { ...state.tenants, [profile.name]: tenant },
    })).catch(() => {}); // only status's display needs it
  }
  await reportLogin(auth, accessToken, store, profile, [
    ["Tenant", tenant],
    ["Organization", org],
  ]);
  return EXIT.ok;
}

/**
 * Auth0 refuses an organization id it does not know with `invalid_request`
 * (the browser comes back with it): say that the organization was not found,
 * not "log in again".
 */
function unknownOrganization(e: unknown, org: string): unknown {
  if (
    !(e instanceof CredentialsError) || e.error !== "invalid_request" ||
    !/organization/i.test(e.errorDescription ?? "")
  ) return e;
  return new CliError(
    `CARTO's login does not know the organization ${JSON.stringify(org)} ` +
      `(${e.errorDescription}). Check the name or the org_… id (your CARTO ` +
      `administrator has it), or log in without --org.`,
    EXIT.failure,
  );
}

async function m2mLogin(
  parsed: Parsed,
  apiBaseUrl: string | undefined,
): Promise<number> {
  const personal = ["org", "no-browser", "port"].find((f) =>
    parsed.flags[f] !== undefined && parsed.flags[f] !== false
  );
  if (personal) {
    throw new UsageError(
      `--${personal} is for logging a person in; it cannot be used with --m2m`,
      NAME,
    );
  }
  const creds = await m2mCredentials({
    credentials: parsed.flags.credentials as string | undefined,
  }, apiBaseUrl);
  if (!creds) {
    throw new UsageError(
      "no M2M credentials: pass --credentials FILE, or set CARTO_CLIENT_ID, " +
        "CARTO_CLIENT_SECRET and CARTO_API_BASE_URL",
      NAME,
    );
  }
  const { CartoAuth } = await import("../../auth.ts");
  const profile = await currentProfile();
  const store = await tokenStore(profile.name);
  const auth = new CartoAuth({
    ...commonOptions(),
    mode: "m2m",
    store: writeOnly(store),
    apiBaseUrl: apiBaseUrl ?? creds.apiBaseUrl,
    clientId: creds.clientId,
    clientSecret: creds.clientSecret,
  });
  const accessToken = await auth.getAccessToken();
  await reportLogin(auth, accessToken, store, profile, [
    ["Client id", creds.clientId],
  ]);
  await stderr.write(
    style(stderr).dim(
      "Commands renew this token while the client credentials are at hand " +
        "(--credentials FILE, or the CARTO_CLIENT_* variables).",
    ) + "\n",
  );
  return EXIT.ok;
}

async function reportLogin(
  auth: CartoAuth,
  accessToken: string,
  store: FileTokenStore,
  profile: ProfileChoice,
  extra: [string, string | undefined][],
): Promise<void> {
  const s = style(stderr);
  const now = Date.now() / 1000;
  const expiration = auth.expiration ?? Infinity;
  const saved = (await store.get(auth.mode))?.accessToken === accessToken;
  const who = auth.mode === "m2m"
    ? "an M2M client"
    : safeLine(tokenSubject(accessToken) ?? "you");
  const named = profile.name !== DEFAULT_PROFILE;
  const rows: [string, string | undefined][] = [
    ["Profile", named ? profile.name : undefined],
    ...extra,
    ["API base URL", auth.getApiBaseUrl()],
    ["Token expires", expiryText(expiration, now)],
    [
      "Saved to",
      saved
        ? store.pathFor(auth.mode)
        : "nowhere (see the warning above): the next command will need a login",
    ],
  ];
  const width = Math.max(...rows.map(([k]) => k.length)) + 2;
  const lines = [
    `${s.green("✓")} Logged in to CARTO as ${s.bold(who)}`,
    ...rows.filter(([, v]) => v !== undefined).map(([k, v]) =>
      `  ${`${k}:`.padEnd(width)}${safeLine(v!)}`
    ),
  ];
  if (!isFresh({ accessToken, expiration }, now)) {
    lines.push(
      `${
        s.yellow("!")
      } CARTO issued a token that is already about to expire. ` +
        `Check this machine's clock.`,
    );
  }
  if (named && profile.source === "flag" && saved) {
    const used = (await readState()).profile;
    if (used !== profile.name) {
      lines.push(
        s.dim(
          `Commands use this login with --profile ${profile.name} (or CARTO_PROFILE=${profile.name}); ` +
            `to use it by default: carto-auth use ${profile.name}`,
        ),
      );
    }
  }
  await stderr.write(`${lines.join("\n")}\n`);
}
