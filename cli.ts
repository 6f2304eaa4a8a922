#!/usr/bin/env bun
/**
 * The `carto-auth` command line: `login`, `logout`, `status`, `token`,
 * `dw credentials`, `dw query`, `sql`. Run `carto-auth --help` for the
 * commands, and `carto-auth <command> --help` for each one's flags.
 *
 * @example
 * ```sh
 * deno run -A jsr:@carto/auth/cli login
 * deno run -A jsr:@carto/auth/cli dw query "SELECT 1 AS n"
 * curl -H "Authorization: Bearer $(deno run -A jsr:@carto/auth/cli token)" …
 * ```
 *
 * @module
 */
async function run(args: string[]): Promise<number> {
  // `token` on a cache hit needs none of the rest; it is loaded on demand.
  if (await fastToken(args)) return 0;
  const { main } = await import("./src/cli/main.ts");
  return await main(args);
}

/**
 * Runs `carto-auth` with `args` (the words after the program name) and
 * resolves with the exit code: 0 ok, 1 failure, 2 usage error, 4
 * authentication needed, 130 interrupted.
 *
 * @example
 * ```ts ignore
 * import { main } from "@carto/auth/cli";
 * const code = await main(["status", "--json"]);
 * ```
 */
export function main(args: string[]): Promise<number> {
  return run(args);
}

// The `token` fast path: `carto-auth token` on a cache hit, answered in this
// file on the runtime's own APIs, with no flag parser, no Node streams, no
// library code and no other module. Scripts call `$(carto-auth token)` often,
// and starting those costs more than the runtime itself takes to start (Bun:
// `process.stdout` alone adds ~15 ms to ~8 ms; Deno: touching `process`
// ~20 ms). In Bun even loading a module does: an `import` starts the
// transpiler's worker threads (~5 ms), `import.meta.require` takes ~2 ms and
// ~1 ms a file. Anything the fast path is not sure about (other flags, no or
// an expired token, a token of another M2M client) is left to the full
// command, which gives the same answer the slow way.

/** Renew this long before expiry: the library's default, as `LEEWAY_SECONDS` of src/cli/config.ts. */
const LEEWAY_SECONDS = 60;

/**
 * The profile rules of src/profiles.ts, which this file does not import (see
 * above): the default profile's files are in the cache folder itself,
 * profile NAME's in `profiles/NAME`.
 */
const DEFAULT_PROFILE = "default";
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const profileDir = (root: string, profile: string) =>
  profile === DEFAULT_PROFILE
    ? root
    : `${root.replace(/\/+$/, "")}/profiles/${profile}`;

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
  process?: {
    env: Record<string, string | undefined>;
    platform: string;
    getBuiltinModule?(id: string): unknown;
    getuid?(): number;
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

/** Token files hold a few kilobytes; anything far larger is not one. */
const MAX_FILE_BYTES = 64 * 1024;

/**
 * The text of `path` when it is a regular file of this user under 64 KiB and
 * not a link; anything else (a FIFO would hang the read) is left to
 * `FileTokenStore`, which says what is wrong with it.
 */
async function readText(path: string): Promise<string | undefined> {
  try {
    return rt.Deno ? await denoText(path) : nodeText(path);
  } catch {
    return undefined;
  }
}

/** Whether `info` is a regular file of this user (`uid` null: not known) of a token file's size. */
function ownSmallFile(
  info: { isFile: boolean; size: number; uid: number | null },
  uid: number | null | undefined,
): boolean {
  return info.isFile && info.size <= MAX_FILE_BYTES &&
    (uid == null || info.uid === uid);
}

async function denoText(path: string): Promise<string | undefined> {
  const info = await rt.Deno!.lstat(path);
  if (!ownSmallFile(info, denoUid())) return undefined;
  return await rt.Deno!.readTextFile(path);
}

/** Deno's user id; `null` without `--allow-sys=uid` (as `FileTokenStore` then skips the check). */
function denoUid(): number | null {
  try {
    return rt.Deno!.uid();
  } catch {
    return null;
  }
}

/** `node:fs` of Bun and Node (Node ≥ 20.16 and Bun have `process.getBuiltinModule`). */
function nodeFs(): typeof import("node:fs") | undefined {
  return rt.process?.getBuiltinModule?.("node:fs") as
    | typeof import("node:fs")
    | undefined;
}

/**
 * Bun and Node, through `node:fs`, synchronously: Bun's own file reads and
 * `fs.promises` hand the work to a thread pool whose start costs more than
 * the read. The file is opened without following a link (O_NOFOLLOW: a link
 * fails with ELOOP, as `lstat` would have shown it) and without waiting for
 * a FIFO's writer (O_NONBLOCK), then checked with `fstat` on that handle:
 * the checks are those of the file that is read, not of whatever the path
 * named a moment before.
 */
function nodeText(path: string): string | undefined {
  const fs = nodeFs();
  // A missing file (cli.json before any `use`) is the usual case: asking
  // costs less than the exception of a failed open.
  if (!fs?.existsSync(path)) return undefined;
  const c = fs.constants;
  // Windows has no O_NOFOLLOW: look at the path itself first.
  if (c.O_NOFOLLOW === undefined && !fs.lstatSync(path).isFile()) {
    return undefined;
  }
  const fd = fs.openSync(
    path,
    c.O_RDONLY | (c.O_NOFOLLOW ?? 0) | (c.O_NONBLOCK ?? 0),
  );
  try {
    const stat = fs.fstatSync(fd);
    const info = { isFile: stat.isFile(), size: stat.size, uid: stat.uid };
    if (!ownSmallFile(info, rt.process?.getuid?.())) return undefined;
    // Read to the end, and never past the cap, even if the file grows.
    const buffer = new Uint8Array(MAX_FILE_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const n = fs.readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > MAX_FILE_BYTES) return undefined;
    return new TextDecoder().decode(buffer.subarray(0, length));
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes `text` to stdout; in Bun and Node with `node:fs`, which the read has
 * loaded (their own stdout objects cost more to start), waiting out a full
 * pipe that another process made non-blocking.
 */
async function write(text: string): Promise<void> {
  const fs = rt.Deno ? undefined : nodeFs()!;
  let bytes = new TextEncoder().encode(text);
  while (bytes.length) {
    try {
      bytes = bytes.subarray(
        fs ? fs.writeSync(1, bytes) : rt.Deno!.stdout.writeSync(bytes),
      );
    } catch (error) {
      if ((error as { code?: string }).code !== "EAGAIN") throw error;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
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
async function fastToken(argv: string[]): Promise<boolean> {
  const flags = tokenFlags(argv);
  if (!flags || (!rt.Deno && !nodeFs())) return false;
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

interface Proc {
  argv: string[];
  exit(code: number): never;
  getBuiltinModule?(id: string): unknown;
}

// Deno's `process` is set up on first touch, which costs ~20 ms: in Deno the
// program's arguments and exit come from `Deno` itself.
const deno = (globalThis as {
  Deno?: { args: string[]; exit(code: number): never };
}).Deno;
const proc = () => (globalThis as unknown as { process: Proc }).process;

/** Whether this module is the program (`import.meta.main`, or argv[1] on Node < 24). */
function isProgram(): boolean {
  const meta = import.meta as ImportMeta & { main?: boolean };
  if (typeof meta.main === "boolean") return meta.main;
  const fs = proc().getBuiltinModule?.("node:fs") as
    | typeof import("node:fs")
    | undefined;
  const script = proc().argv[1];
  if (!fs || !script || !import.meta.url.startsWith("file:")) return false;
  try {
    return fs.realpathSync(script) ===
      fs.realpathSync(new URL(import.meta.url));
  } catch {
    return false;
  }
}

if (isProgram()) {
  const code = await run(deno ? deno.args : proc().argv.slice(2));
  // Exit at once: a stdin that was read from (the pasted code) would keep the
  // process alive. Every write has been flushed by then.
  if (deno) deno.exit(code);
  proc().exit(code);
}
