/** `carto-auth status`: what each kind of credentials holds, without network calls. */
import type { StoredToken } from "../../stores/types.ts";
import { isFresh, type Kind, m2mEnvSet, select } from "../credentials.ts";
import { EXIT } from "../errors.ts";
import { env, stdout, style } from "../io.ts";
import { jwtExpiration } from "../../jwt.ts";
import { tokenSubject } from "../jwt.ts";
import type { Command } from "../main.ts";
import {
  DEFAULT_PROFILE,
  profileArg,
  type ProfileSource,
} from "../profiles.ts";
import {
  collectProfiles,
  describeProfiles,
  type ProfileSummary,
} from "./status_profiles.ts";
import { jsonSafe, safeLine } from "../safe_text.ts";
import { expiryText } from "../time.ts";

/** One kind of credentials in `status --json`. */
export interface StatusEntry {
  /** A token is there: the variable is set, or the cache file holds one. */
  loggedIn: boolean;
  /** A command can get a valid token without a person: fresh, or renewable. */
  usable: boolean;
  /** Where the token comes from. */
  source: "env" | "cache" | null;
  /** The cache file (also when it does not exist); `null` for the variable. */
  file: string | null;
  apiBaseUrl: string | null;
  /** Who the token stands for (its e-mail or subject claim). */
  account: string | null;
  /** ISO 8601, UTC. */
  expiresAt: string | null;
  /** Seconds until expiry, negative once expired. */
  expiresIn: number | null;
  /** Can be renewed without a person (refresh token, M2M client credentials). */
  renewable: boolean;
  /** SSO organization of the login (oauth). */
  org?: string | null;
  /** M2M client id (m2m). */
  clientId?: string | null;
}

/** The whole of `status --json`. */
export interface StatusJson {
  /** The profile commands use now; `oauth` and `m2m` are its logins. */
  profile: string;
  /** Why that profile: `flag` (--profile), `env` (CARTO_PROFILE), `use` (carto-auth use), `default`. */
  profileSource: ProfileSource;
  /** Which credentials `token`, `dw` and `sql` use now. */
  active: Kind;
  /** Whether any entry is usable (the exit code is 0 then). */
  usable: boolean;
  env: StatusEntry | null;
  oauth: StatusEntry;
  m2m: StatusEntry;
  /** Every profile with a login, and the current one. */
  profiles: ProfileSummary[];
}

function entry(
  token: StoredToken | undefined,
  now: number,
  fields: Partial<StatusEntry> & { renewable: boolean },
): StatusEntry {
  const exp = token?.expiration;
  const known = exp !== undefined && Number.isFinite(exp);
  const fresh = !!token && isFresh(token, now);
  return {
    loggedIn: !!token,
    usable: fresh || fields.renewable,
    source: null,
    file: null,
    apiBaseUrl: token?.apiBaseUrl ?? null,
    account: token ? tokenSubject(token.accessToken) ?? null : null,
    expiresAt: known ? new Date(exp * 1000).toISOString() : null,
    expiresIn: known ? Math.round(exp - now) : null,
    ...fields,
  };
}

/** Collects the status of every kind of credentials. */
export async function collectStatus(
  now = Date.now() / 1000,
): Promise<StatusJson> {
  const selection = await select();
  const store = selection.store;
  const [oauth, m2m, profiles] = await Promise.all([
    store.get("oauth"),
    store.get("m2m"),
    collectProfiles(selection.profile.name, now),
  ]);
  const envToken = env("CARTO_API_TOKEN");
  const m2mRenewable = m2mEnvSet() &&
    (!m2m?.clientId || m2m.clientId === env("CARTO_CLIENT_ID"));
  const result: StatusJson = {
    profile: selection.profile.name,
    profileSource: selection.profile.source,
    active: selection.kind,
    usable: false,
    env: envToken
      ? entry(
        {
          accessToken: envToken,
          expiration: jwtExpiration(envToken) ?? Infinity,
          apiBaseUrl: env("CARTO_API_BASE_URL"),
        },
        now,
        { source: "env", renewable: false },
      )
      : null,
    oauth: entry(oauth, now, {
      source: oauth ? "cache" : null,
      file: store.pathFor("oauth"),
      renewable: !!oauth?.refreshToken,
      org: oauth?.org ?? null,
    }),
    m2m: entry(m2m, now, {
      source: m2m ? "cache" : null,
      file: store.pathFor("m2m"),
      renewable: m2mRenewable,
      clientId: m2m?.clientId ?? env("CARTO_CLIENT_ID") ?? null,
    }),
    profiles,
  };
  result.usable = [result.env, result.oauth, result.m2m].some((e) => e?.usable);
  return result;
}

const SOURCES: Record<ProfileSource, string> = {
  flag: "from --profile",
  env: "from CARTO_PROFILE",
  use: "chosen with carto-auth use",
  default: "the default profile",
};

const TITLES = {
  env: "CARTO_API_TOKEN (environment variable)",
  oauth: "Your login (OAuth)",
  m2m: "M2M login (machine)",
} as const;

function describe(
  kind: Kind,
  e: StatusEntry,
  active: boolean,
  now: number,
  profile: string,
) {
  const s = style(stdout);
  const title = `${s.bold(TITLES[kind])}${
    active ? s.cyan("  ← used by commands") : ""
  }`;
  const lines = [title];
  const expired = e.expiresIn !== null && e.expiresIn <= 0;
  const fix = kind === "oauth"
    ? `carto-auth login${profileArg(profile)}`
    : kind === "m2m"
    ? `carto-auth login --m2m${profileArg(profile)}`
    : "set a new CARTO_API_TOKEN";
  if (!e.loggedIn) {
    lines.push(
      e.usable
        ? `  ${
          s.green("✓")
        } No token yet; CARTO_CLIENT_ID and CARTO_CLIENT_SECRET are set, so one is fetched when needed`
        : `  ${s.red("✗")} Not logged in. Run: ${fix}`,
    );
  } else if (e.usable) {
    const state = expired
      ? `Expired; renewed on next use with the ${
        kind === "oauth" ? "refresh token" : "client credentials"
      }`
      : kind === "env"
      ? "Set; every command uses it"
      : "Logged in";
    lines.push(
      `  ${s.green("✓")} ${state}${
        e.account ? ` as ${s.bold(safeLine(e.account))}` : ""
      }`,
    );
  } else {
    lines.push(
      `  ${s.red("✗")} ${expired ? "Expired" : "Expires in under a minute"}${
        e.account ? ` (${safeLine(e.account)})` : ""
      }. Run: ${fix}`,
    );
  }
  const rows: [string, string | null | undefined][] = [];
  if (e.loggedIn) {
    rows.push(
      [
        "API base URL",
        e.apiBaseUrl ??
          (kind === "env" ? "looked up from the token when needed" : null),
      ],
      [
        "Expires",
        e.expiresAt === null
          ? "unknown (the token has no exp claim)"
          : expiryText(Date.parse(e.expiresAt) / 1000, now),
      ],
    );
  }
  rows.push(["Organization", e.org], ["Client id", e.clientId]);
  rows.push([
    kind === "env" ? "Source" : "Token file",
    kind === "env" ? "CARTO_API_TOKEN" : e.file,
  ]);
  for (const [k, v] of rows) {
    if (v) lines.push(`  ${`${k}:`.padEnd(15)}${safeLine(v)}`);
  }
  return lines.join("\n");
}

/** `carto-auth status`. */
export const status: Command = {
  spec: {
    name: "status",
    summary: "Show the logins, their API base URL and expiry",
    usage: "[--json]",
    description:
      "Reads the environment and the token cache (no network calls). Exit code 0 when a\n" +
      "usable token exists (valid, or renewable without a person), 1 otherwise.",
    flags: {
      json: {
        type: "boolean",
        help: "machine-readable output (see docs/cli.md)",
      },
    },
    examples: [
      "$ carto-auth status",
      "$ carto-auth status --json | jq -r .oauth.apiBaseUrl",
      "$ carto-auth status >/dev/null || carto-auth login",
    ],
  },
  async run({ flags }) {
    const now = Date.now() / 1000;
    const result = await collectStatus(now);
    if (flags.json) {
      await stdout.write(`${jsonSafe(JSON.stringify(result, null, 2))}\n`);
    } else {
      const kinds = (["env", "oauth", "m2m"] as const).filter((k) =>
        result[k] !== null
      );
      const blocks = kinds.map((k) =>
        describe(k, result[k]!, result.active === k, now, result.profile)
      );
      // With one profile the blocks say it all; with more, list them all.
      if (result.profiles.length > 1 || result.profile !== DEFAULT_PROFILE) {
        blocks.unshift(
          `${style(stdout).bold(`Profile ${result.profile}`)}${
            style(stdout).dim(`  (${SOURCES[result.profileSource]})`)
          }`,
        );
        blocks.push(describeProfiles(result.profiles, stdout, now));
      }
      await stdout.write(`${blocks.join("\n\n")}\n`);
    }
    return result.usable ? EXIT.ok : EXIT.failure;
  },
};
