/**
 * Which profile a command uses, and the CLI's own state beside the token
 * files (`cli.json` in the cache folder: the profile `use` chose, and the
 * tenant each login was made on, for `status`).
 *
 * The profile is `--profile NAME`, else `CARTO_PROFILE`, else the one
 * `carto-auth use NAME` saved, else `default` (the Python-compatible files).
 */
import { DEFAULT_PROFILE, PROFILE_NAME, profileDir } from "../profiles.ts";
import { UsageError } from "./errors.ts";
import { env } from "./io.ts";

export { DEFAULT_PROFILE, profileDir };

/** Where the chosen profile came from. */
export type ProfileSource = "flag" | "env" | "use" | "default";

/** The profile a command uses. */
export interface ProfileChoice {
  name: string;
  source: ProfileSource;
}

/** The CLI's state file, `cli.json`. */
export interface CliState {
  /** The profile `carto-auth use` chose. */
  profile?: string;
  /** Profile name → the tenant its OAuth login was made on. */
  tenants?: Record<string, string>;
}

let flagProfile: string | undefined;

/** Checks `name`; a {@linkcode UsageError} saying what a name may be otherwise. */
export function checkedProfileName(name: string, where: string): string {
  if (!PROFILE_NAME.test(name)) {
    throw new UsageError(
      `${where}: ${
        JSON.stringify(name)
      } is not a profile name (letters, digits, "_", "." and "-", starting with a ` +
        `letter or digit; at most 64)`,
    );
  }
  return name;
}

/**
 * Takes the global `--profile NAME` (or `--profile=NAME`) out of `argv`,
 * wherever it stands before `--`, and remembers it for
 * {@linkcode currentProfile}. Returns the other words.
 */
export function takeProfileFlag(argv: string[]): string[] {
  flagProfile = undefined; // `main` may run more than once in a process
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === "--") return [...out, ...argv.slice(i)];
    let value: string | undefined;
    if (word === "--profile") {
      value = argv[++i];
      if (value === undefined || value.startsWith("-")) {
        throw new UsageError("flag --profile needs a value (--profile NAME)");
      }
    } else if (word.startsWith("--profile=")) {
      value = word.slice("--profile=".length);
    } else {
      out.push(word);
      continue;
    }
    flagProfile = checkedProfileName(value, "--profile");
  }
  return out;
}

/** The cache folder: `CARTO_AUTH_CACHE_DIR`, else `~/.carto-auth`. */
export async function cacheRoot(): Promise<string> {
  const dir = env("CARTO_AUTH_CACHE_DIR");
  if (dir) return dir;
  const { homedir } = await import("node:os");
  const { join } = await import("node:path");
  return join(homedir(), ".carto-auth");
}

/** Reads `cli.json`; an unreadable or invalid file counts as empty. */
export async function readState(root?: string): Promise<CliState> {
  const { readFile } = await import("node:fs/promises");
  try {
    const data = JSON.parse(
      await readFile(`${root ?? await cacheRoot()}/cli.json`, "utf8"),
    );
    return data && typeof data === "object" ? data as CliState : {};
  } catch {
    return {};
  }
}

/** Changes `cli.json` with `change`, atomically (temporary file, then rename). */
export async function updateState(
  change: (state: CliState) => CliState,
): Promise<void> {
  const { mkdir, rename, writeFile } = await import("node:fs/promises");
  const root = await cacheRoot();
  const next = change(await readState(root));
  await mkdir(root, { recursive: true, mode: 0o700 });
  const tmp = `${root}/cli.json.${crypto.randomUUID()}.tmp`;
  await writeFile(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, `${root}/cli.json`);
}

/** The profile this command uses; see the module doc. */
export async function currentProfile(): Promise<ProfileChoice> {
  if (flagProfile) return { name: flagProfile, source: "flag" };
  const fromEnv = env("CARTO_PROFILE");
  if (fromEnv) {
    return {
      name: checkedProfileName(fromEnv, "CARTO_PROFILE"),
      source: "env",
    };
  }
  const saved = (await readState()).profile;
  if (saved && saved !== DEFAULT_PROFILE && PROFILE_NAME.test(saved)) {
    return { name: saved, source: "use" };
  }
  return { name: DEFAULT_PROFILE, source: "default" };
}

/** ` --profile NAME` for a command to suggest, empty for the default profile. */
export function profileArg(name: string): string {
  return name === DEFAULT_PROFILE ? "" : ` --profile ${name}`;
}

/** Every profile with a token file: `default` first, then by name. */
export async function listProfiles(): Promise<string[]> {
  const { readdir, stat } = await import("node:fs/promises");
  const root = await cacheRoot();
  const names = await readdir(`${root}/profiles`).catch(() => [] as string[]);
  const found: string[] = [];
  for (const name of names.filter((n) => PROFILE_NAME.test(n)).sort()) {
    if (await hasLogin(profileDir(root, name), stat)) found.push(name);
  }
  return [DEFAULT_PROFILE, ...found];
}

async function hasLogin(
  dir: string,
  stat: typeof import("node:fs/promises").stat,
): Promise<boolean> {
  for (const file of ["token_oauth.json", "token_m2m.json"]) {
    if (await stat(`${dir}/${file}`).then(() => true, () => false)) return true;
  }
  return false;
}
