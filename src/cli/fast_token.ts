/**
 * `carto-auth token` on a cache hit, on the runtime's own file and stdout
 * APIs: no flag parser, no Node streams, no library code. Starting those
 * costs more than the runtime itself takes to start (Bun: `process.stdout`
 * alone adds ~15 ms to ~8 ms; Deno: touching `process` ~20 ms), and scripts
 * call `$(carto-auth token)` often. Anything it is not sure about (other
 * flags, no or an expired token, a token of another M2M client) is left to
 * the full command, which gives the same answer
 * the slow way.
 */

import { DEFAULT_PROFILE, PROFILE_NAME, profileDir } from "../profiles.ts";

/** Renew this long before expiry: the library's default, used by every command. */
export const LEEWAY_SECONDS = 60;

/** How far west of UTC a clock can be (UTC-12), in seconds. */
const MAX_WEST_OFFSET = 12 * 3600;

interface Runtime {
  Deno?: {
    env: { get(name: string): string | undefined };
    readTextFile(path: string): Promise<string>;
    lstat(
      path: string,
    ): Promise<{ isFile: boolean; size: number; uid: number | null }>;
    uid(): number | null;
    stdout: { writeSync(bytes: Uint8Array): number };
  };
  Bun?: {
    file(path: string): { text(): Promise<string> };
    write(dest: unknown, text: string): Promise<number>;
    stdout: unknown;
  };
  process?: {
    env: Record<string, string | undefined>;
    platform: string;
    getBuiltinModule?(id: string): unknown;
    getuid?(): number;
    stdout: { write(text: string, done: () => void): void };
  };
}

const rt = globalThis as unknown as Runtime;

function env(name: string): string | undefined {
  let value: string | undefined;
  try {
    value = rt.Deno ? rt.Deno.env.get(name) : rt.process?.env[name];
  } catch {
    return undefined;
  }
  return value === "" ? undefined : value;
}

/**
 * The text of `path` when it is a regular file of this user under 64 KiB and
 * not a link; anything else (a FIFO would hang the read) is left to
 * `FileTokenStore`, which says what is wrong with it.
 */
async function readText(path: string): Promise<string | undefined> {
  try {
    const info = rt.Deno ? await rt.Deno.lstat(path) : nodeLstat(path);
    const uid = rt.Deno ? denoUid() : rt.process?.getuid?.();
    if (!info?.isFile || info.size > 65536) return undefined;
    if (uid != null && info.uid !== uid) return undefined;
    if (rt.Deno) return await rt.Deno.readTextFile(path);
    if (rt.Bun) return await rt.Bun.file(path).text();
    const fs = rt.process?.getBuiltinModule?.("node:fs/promises") as
      | typeof import("node:fs/promises")
      | undefined;
    return await fs?.readFile(path, "utf8");
  } catch {
    return undefined;
  }
}

/** Deno's user id; `null` without `--allow-sys=uid` (as `FileTokenStore` then skips the check). */
function denoUid(): number | null {
  try {
    return rt.Deno!.uid();
  } catch {
    return null;
  }
}

function nodeLstat(path: string) {
  const fs = rt.process?.getBuiltinModule?.("node:fs") as
    | typeof import("node:fs")
    | undefined;
  const stat = fs?.lstatSync(path);
  return stat && { isFile: stat.isFile(), size: stat.size, uid: stat.uid };
}

async function write(text: string): Promise<void> {
  if (rt.Deno) {
    let bytes = new TextEncoder().encode(text);
    while (bytes.length) {
      bytes = bytes.subarray(rt.Deno.stdout.writeSync(bytes));
    }
  } else if (rt.Bun) {
    await rt.Bun.write(rt.Bun.stdout, text);
  } else {
    await new Promise<void>((resolve) =>
      rt.process!.stdout.write(text, resolve)
    );
  }
}

/** The cache folder, as `FileTokenStore` finds it: `CARTO_AUTH_CACHE_DIR`, else `~/.carto-auth`. */
function cacheDir(): string | undefined {
  const dir = env("CARTO_AUTH_CACHE_DIR");
  if (dir) return dir;
  const home = rt.process?.platform === "win32"
    ? env("USERPROFILE")
    : env("HOME");
  return home ? `${home}/.carto-auth` : undefined;
}

/**
 * The token of a cache file, written by this library (with the exact
 * `expiration_utc`) or by the Python package (only `expiration`, off by the
 * machine's UTC offset unless TZ=UTC: read as the earlier of its two
 * possible meanings, as `FileTokenStore` does, so it is never used past its
 * real expiry).
 */
function cachedToken(
  text: string,
): { accessToken: string; expiration: number; clientId?: string } | undefined {
  try {
    const d = JSON.parse(text);
    if (typeof d?.access_token !== "string" || !d.access_token) {
      return undefined;
    }
    let expiration = d.expiration_utc;
    if (typeof expiration !== "number" || !Number.isFinite(expiration)) {
      const python = d.expiration;
      if (typeof python !== "number" || !Number.isFinite(python)) {
        return undefined;
      }
      // The earlier reading is never before `python - 12 h` (UTC-12 is the
      // westmost zone), so a token that far from expiry is fresh in any
      // zone: no need to ask for the zone, which costs Bun 10-20 ms.
      expiration = python - MAX_WEST_OFFSET > Date.now() / 1000 + LEEWAY_SECONDS
        ? python - MAX_WEST_OFFSET
        : Math.min(
          python,
          python - new Date(python * 1000).getTimezoneOffset() * 60,
        );
    }
    return {
      accessToken: d.access_token,
      expiration,
      clientId: typeof d.client_id === "string" ? d.client_id : undefined,
    };
  } catch {
    return undefined;
  }
}

/**
 * `token`'s flags when the fast path can answer them: `--m2m` and the
 * global `--profile NAME`; `undefined` for anything else.
 */
function tokenFlags(
  argv: string[],
): { m2m: boolean; profile?: string } | undefined {
  if (argv[0] !== "token") return undefined;
  let m2m = false;
  let profile: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i];
    if (word === "--m2m" && !m2m) m2m = true;
    else if (word === "--profile" && profile === undefined) {
      profile = argv[++i];
    } else if (word.startsWith("--profile=") && profile === undefined) {
      profile = word.slice("--profile=".length);
    } else return undefined;
  }
  if (profile !== undefined && !PROFILE_NAME.test(profile)) return undefined;
  return { m2m, profile };
}

/** The profile `use` saved in `cli.json`, if any. */
async function savedProfile(root: string): Promise<string | undefined> {
  const text = await readText(`${root}/cli.json`);
  if (text === undefined) return undefined;
  try {
    const profile = JSON.parse(text)?.profile;
    return typeof profile === "string" ? profile : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Prints the token and resolves `true` when `argv` is `token` (with
 * `--m2m`, `--profile NAME`) and the answer is certain without renewing
 * anything; else `false`.
 */
export async function fastToken(argv: string[]): Promise<boolean> {
  const flags = tokenFlags(argv);
  if (!flags) return false;
  const envToken = env("CARTO_API_TOKEN");
  if (envToken) {
    await write(`${envToken}\n`);
    return true;
  }
  const clientId = env("CARTO_CLIENT_ID");
  const m2m = flags.m2m || (!!clientId && !!env("CARTO_CLIENT_SECRET"));
  const root = cacheDir();
  if (!root) return false;
  const profile = flags.profile ?? env("CARTO_PROFILE") ??
    await savedProfile(root) ?? DEFAULT_PROFILE;
  if (!PROFILE_NAME.test(profile)) return false; // the full command says why
  const dir = profileDir(root, profile);
  const text = await readText(`${dir}/token_${m2m ? "m2m" : "oauth"}.json`);
  const token = text === undefined ? undefined : cachedToken(text);
  if (!token || token.expiration - LEEWAY_SECONDS <= Date.now() / 1000) {
    return false;
  }
  if (m2m && clientId && token.clientId && token.clientId !== clientId) {
    return false;
  }
  // A token never holds a control character; the full command shows one, not obeys it.
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f-\x9f]/.test(token.accessToken)) return false;
  await write(`${token.accessToken}\n`);
  return true;
}
