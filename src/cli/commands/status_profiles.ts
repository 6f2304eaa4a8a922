/**
 * The profiles part of `carto-auth status`: every profile with its logins
 * as tenant → organization → user and their expiry, the current one marked.
 */
import type { StoredToken } from "../../stores/types.ts";
import { tokenStore } from "../config.ts";
import { type Output, style } from "../io.ts";
import { tokenSubject } from "../jwt.ts";
import { listProfiles, readState } from "../profiles.ts";
import { safeLine } from "../safe_text.ts";
import { relativeTime } from "../time.ts";

/** One login of a profile in `status --json`'s `profiles`. */
export interface LoginSummary {
  /** The token's e-mail or subject (OAuth), `null` when unknown. */
  account: string | null;
  /** SSO organization (OAuth) or client id (M2M). */
  org?: string | null;
  clientId?: string | null;
  apiBaseUrl: string | null;
  /** ISO 8601, UTC. */
  expiresAt: string | null;
  /** Seconds until expiry, negative once expired. */
  expiresIn: number | null;
}

/** One profile in `status --json`'s `profiles`. */
export interface ProfileSummary {
  name: string;
  /** The profile commands use now. */
  current: boolean;
  /** The tenant its OAuth login was made on, when `login` could find it. */
  tenant: string | null;
  oauth: LoginSummary | null;
  m2m: LoginSummary | null;
}

function summary(
  token: StoredToken | undefined,
  now: number,
  extra: Partial<LoginSummary>,
): LoginSummary | null {
  if (!token) return null;
  const known = Number.isFinite(token.expiration);
  return {
    account: tokenSubject(token.accessToken) ?? null,
    apiBaseUrl: token.apiBaseUrl ?? null,
    expiresAt: known ? new Date(token.expiration * 1000).toISOString() : null,
    expiresIn: known ? Math.round(token.expiration - now) : null,
    ...extra,
  };
}

/** Every profile with a login (and the current one, even without). */
export async function collectProfiles(
  current: string,
  now: number,
): Promise<ProfileSummary[]> {
  const names = await listProfiles();
  if (!names.includes(current)) names.push(current);
  const { tenants = {} } = await readState();
  return await Promise.all(names.map(async (name) => {
    const store = await tokenStore(name);
    const [oauth, m2m] = await Promise.all([
      store.get("oauth"),
      store.get("m2m"),
    ]);
    return {
      name,
      current: name === current,
      tenant: typeof tenants[name] === "string" ? tenants[name] : null,
      oauth: summary(oauth, now, { org: oauth?.org ?? null }),
      m2m: summary(m2m, now, { clientId: m2m?.clientId ?? null }),
    };
  }));
}

function host(url: string | null): string | null {
  if (!url) return null;
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function expiry(login: LoginSummary, now: number): string {
  if (login.expiresAt === null) return "expiry unknown";
  const at = Date.parse(login.expiresAt) / 1000;
  return at > now
    ? `expires ${relativeTime(at, now)}`
    : `expired ${relativeTime(at, now)}`;
}

/** The `Profiles` block of `status`: one line per login, `*` on the current profile. */
export function describeProfiles(
  profiles: ProfileSummary[],
  out: Output,
  now: number,
): string {
  const s = style(out);
  const width = Math.max(...profiles.map((p) => p.name.length)) + 2;
  const lines = [
    `${s.bold("Profiles")}${
      s.dim("  (* = used by commands; switch: carto-auth use NAME)")
    }`,
  ];
  for (const p of profiles) {
    const logins: string[] = [];
    if (p.oauth) {
      const path = [
        p.tenant ?? host(p.oauth.apiBaseUrl),
        p.oauth.org,
        p.oauth.account,
      ]
        .filter((x): x is string => !!x).map(safeLine).join(" → ");
      logins.push(`${path} · ${expiry(p.oauth, now)}`);
    }
    if (p.m2m) {
      const path = [
        host(p.m2m.apiBaseUrl),
        p.m2m.clientId && `client ${p.m2m.clientId}`,
      ]
        .filter((x): x is string => !!x).map(safeLine).join(" → ");
      logins.push(`M2M: ${path} · ${expiry(p.m2m, now)}`);
    }
    if (!logins.length) logins.push(s.dim("not logged in"));
    const mark = p.current ? s.cyan("*") : " ";
    const name = p.current
      ? s.bold(p.name.padEnd(width))
      : p.name.padEnd(width);
    lines.push(`${mark} ${name}${logins[0]}`);
    for (const more of logins.slice(1)) {
      lines.push(`  ${"".padEnd(width)}${more}`);
    }
  }
  return lines.join("\n");
}
