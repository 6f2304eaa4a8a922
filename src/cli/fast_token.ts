/**
 * `carto-auth token` on a cache hit, on the runtime's own file and stdout
 * APIs: no flag parser, no Node streams, no library code. Starting those
 * costs more than the runtime itself takes to start (Bun: `process.stdout`
 * alone adds ~15 ms to ~8 ms; Deno: touching `process` ~20 ms), and scripts
 * call `$(carto-auth token)` often. Anything it is not sure about (flags, no
 * or an expired token, a token of another M2M client, a file written by the
 * Python package) is left to the full command, which gives the same answer
 * the slow way.
 */

/** Renew this long before expiry: the library's default, used by every command. */
export const LEEWAY_SECONDS = 60;

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
 * The token of a cache file written by this library (`FileTokenStore`): one
 * with the exact `expiration_utc`. Files written by the Python package need
 * `parseTokenFile`'s care with their clock, so they take the full path.
 */
function exactToken(
  text: string,
): { accessToken: string; expiration: number; clientId?: string } | undefined {
  try {
    const d = JSON.parse(text);
    if (
      typeof d?.access_token !== "string" || !d.access_token ||
      typeof d.expiration_utc !== "number"
    ) return undefined;
    return {
      accessToken: d.access_token,
      expiration: d.expiration_utc,
      clientId: typeof d.client_id === "string" ? d.client_id : undefined,
    };
  } catch {
    return undefined;
  }
}

/**
 * Prints the token and resolves `true` when `argv` is `token` or `token
 * --m2m` and the answer is certain without renewing anything; else `false`.
 */
export async function fastToken(argv: string[]): Promise<boolean> {
  if (argv[0] !== "token" || argv.length > 2) return false;
  if (argv.length === 2 && argv[1] !== "--m2m") return false;
  const envToken = env("CARTO_API_TOKEN");
  if (envToken) {
    await write(`${envToken}\n`);
    return true;
  }
  const clientId = env("CARTO_CLIENT_ID");
  const m2m = argv[1] === "--m2m" ||
    (!!clientId && !!env("CARTO_CLIENT_SECRET"));
  const dir = cacheDir();
  if (!dir) return false;
  const text = await readText(`${dir}/token_${m2m ? "m2m" : "oauth"}.json`);
  const token = text === undefined ? undefined : exactToken(text);
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
