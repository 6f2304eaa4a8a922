import { CredentialsError } from "../errors.ts";
import { PROFILE_NAME, profileDir } from "../profiles.ts";
import { nodeBuiltin } from "../runtime/builtins.ts";
import type { StoredToken, TokenStore } from "./types.ts";
import { DEFAULT_LOCK_TIMEOUT_MS, withFileLock } from "./file_lock.ts";
import { currentUid, readPrivateFile } from "./private_file.ts";

type Fs = typeof import("node:fs/promises");
type Path = typeof import("node:path");
type Os = typeof import("node:os");

/** Options of {@linkcode FileTokenStore}. */
export interface FileTokenStoreOptions {
  /** The file of the token (the `cacheFilepath` option of `CartoAuth`); `<mode>_dw` goes beside it, as `<name>_dw.json`. */
  path?: string;
  /** Folder holding `token_<key>.json`; default `~/.carto-auth`. */
  dir?: string;
  /**
   * A named profile (another account): its files are in
   * `<dir>/profiles/<profile>/`, where the Python package never looks.
   * Default (or `"default"`): the Python-compatible files in `dir`.
   */
  profile?: string;
  /** Called with a warning (loose permissions, a bad file set aside); default `console.warn`. */
  onWarning?: (message: string) => void;
  /**
   * The longest wait for another process's renewal under {@linkcode FileTokenStore.lock},
   * default 2 minutes; then a `CredentialsError` with code `timeout`.
   */
  lockTimeoutMs?: number;
}

/** Token files hold a few kilobytes; anything far larger is not one. */
const MAX_FILE_BYTES = 64 * 1024;

/**
 * Keeps tokens in the files of the Python `carto-auth` package,
 * `~/.carto-auth/token_oauth.json` and `token_m2m.json`, so that a token cached
 * by either is used by the other. Writes are atomic (temporary file, then
 * rename), the folder is 0700 and the file 0600. A file that cannot be read
 * or parsed counts as "no token"; it is set aside as `<file>.invalid` when a
 * new token replaces it. Only a regular file of the current user, under
 * 64 KiB, is read, without following a symbolic link; anything else is
 * ignored with a warning that says why.
 *
 * Python writes `expiration` with `datetime.utcnow().timestamp()`, which is
 * off by the machine's UTC offset unless `TZ=UTC`. Files without this
 * library's exact `expiration_utc` are read with the earlier of the two
 * readings, and the `expiration` written here is one that Python's own clock
 * never takes for later than the truth.
 *
 * @example
 * ```ts
 * import { FileTokenStore } from "@carto/auth";
 *
 * const store = new FileTokenStore(); // ~/.carto-auth/token_<mode>.json
 * const token = await store.get("oauth");
 * console.log(token?.apiBaseUrl);
 * ```
 */
export class FileTokenStore implements TokenStore {
  readonly #path?: string;
  readonly #dir?: string;
  readonly #profile?: string;
  readonly #warn: (message: string) => void;
  readonly #invalid = new Set<string>();
  readonly #warned = new Set<string>();
  readonly #lockTimeoutMs: number;

  /** A store over `options.path`, or over `token_<key>.json` in `options.dir`. */
  constructor(options: FileTokenStoreOptions = {}) {
    this.#path = options.path;
    this.#dir = options.dir;
    if (options.profile !== undefined && !PROFILE_NAME.test(options.profile)) {
      throw new CredentialsError(
        `${
          JSON.stringify(options.profile)
        } is not a profile name: use letters, digits, "_", "." and "-" ` +
          `(starting with a letter or digit, at most 64).`,
        { code: "invalid_input" },
      );
    }
    this.#profile = options.profile;
    const warn = options.onWarning ?? ((m) => console.warn(m));
    // Once per message: a renewal reads the file more than once.
    this.#warn = (m) => {
      if (!this.#warned.has(m)) warn(m);
      this.#warned.add(m);
    };
    this.#lockTimeoutMs = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  }

  /** The file that holds the token under `key`. */
  pathFor(key: string): string {
    if (this.#path) {
      // One file holds the token; what goes with it (`<mode>_dw`) sits beside it.
      const extra = /_([a-z]+)$/.exec(key)?.[1];
      return extra
        ? this.#path.replace(/(\.json)?$/, `_${extra}$1`)
        : this.#path;
    }
    const { join } = modules().path;
    const root = this.#dir ?? join(modules().os.homedir(), ".carto-auth");
    return join(profileDir(root, this.#profile), `token_${key}.json`);
  }

  /**
   * Reads the token under `key`; a missing, unreadable or invalid file gives
   * `undefined` (with a warning saying why, when it exists but cannot be read).
   */
  async get(key: string): Promise<StoredToken | undefined> {
    const path = this.pathFor(key);
    const read = await readPrivateFile(modules().fs, path, MAX_FILE_BYTES);
    if (read.kind === "refused") {
      this.#warn(
        `carto-auth: ignoring the token cache ${path}: ${read.problem}.`,
      );
    }
    if (read.kind !== "read") return undefined;
    const token = parseTokenFile(read.text);
    if (token) this.#invalid.delete(path);
    else this.#invalid.add(path);
    return token;
  }

  /** Writes `token` under `key` atomically, with owner-only permissions. */
  async set(key: string, token: StoredToken): Promise<void> {
    const { fs, path: pathMod } = modules();
    const path = this.pathFor(key);
    const dir = pathMod.dirname(path);
    await this.#ensurePrivateDir(dir);
    if (this.#invalid.delete(path)) {
      await fs.rename(path, `${path}.invalid`).then(
        () =>
          this.#warn(
            `carto-auth: ${path} did not hold a valid token; kept it as ${path}.invalid`,
          ),
        () => {},
      );
    }
    const tmp = `${path}.${randomSuffix()}.tmp`;
    try {
      await fs.writeFile(tmp, formatTokenFile(token), {
        mode: 0o600,
        flag: "wx",
      });
      await fs.chmod(tmp, 0o600);
      await fs.rename(tmp, path);
    } catch (cause) {
      await fs.rm(tmp, { force: true }).catch(() => {});
      throw new CredentialsError(
        `Could not save the token to ${path}: ${(cause as Error).message}. ` +
          `Check that the folder is writable, or pass another cacheFilepath.`,
        { code: "invalid_input", cause },
      );
    }
  }

  /**
   * Runs `fn` holding `<file>.lock` (created exclusively, naming the owner's
   * pid and host), so parallel processes renew one at a time. The holder
   * refreshes the lock's mtime while it lives. A lock is taken over only when
   * its process is gone (same host) or its mtime has not moved for 10 s
   * (another host sharing the folder); a live holder keeps it however long
   * its renewal takes. Waiting ends after `lockTimeoutMs` with a
   * `CredentialsError` (code `timeout`); where no lock can be made (read-only
   * folder, full disk) `fn` runs without one.
   */
  lock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const { fs, os, path: pathMod } = modules();
    const lockPath = `${this.pathFor(key)}.lock`;
    return withFileLock(lockPath, fn, {
      fs,
      hostname: hostname(os),
      makeDir: () => this.#ensurePrivateDir(pathMod.dirname(lockPath)),
      timeoutMs: this.#lockTimeoutMs,
    });
  }

  /** Removes the file of `key`; no error when it does not exist. */
  async delete(key: string): Promise<void> {
    await modules().fs.rm(this.pathFor(key), { force: true });
  }

  async #ensurePrivateDir(dir: string): Promise<void> {
    const { fs } = modules();
    await fs.mkdir(dir, { recursive: true, mode: 0o700 });
    if (isWindows()) return;
    const stat = await fs.stat(dir);
    // A custom cacheFilepath may sit anywhere; only the cache folder is tightened.
    if ((stat.mode & 0o077) === 0 || this.#path) return;
    const mode = (stat.mode & 0o7777).toString(8);
    const uid = currentUid();
    if ((uid !== undefined && stat.uid !== uid) || (stat.mode & 0o1000)) {
      // Not ours, or shared on purpose (sticky, like /tmp): changing its
      // mode would break it for others. Token files stay 0600 in it.
      this.#warn(
        `carto-auth: ${dir} is shared with other users (mode ${mode}, owner uid ${stat.uid}); ` +
          `left as it is. Keep the token cache in a folder of your own (CARTO_AUTH_CACHE_DIR).`,
      );
      return;
    }
    await fs.chmod(dir, 0o700);
    this.#warn(
      `carto-auth: ${dir} was readable by others (mode ${mode}); set it to 700.`,
    );
  }
}

function modules(): { fs: Fs; path: Path; os: Os } {
  const fs = nodeBuiltin<Fs>("node:fs/promises");
  const path = nodeBuiltin<Path>("node:path");
  const os = nodeBuiltin<Os>("node:os");
  if (!fs || !path || !os) {
    throw new CredentialsError(
      "There is no file system here to keep the token in. Pass `store` " +
        "(MemoryTokenStore, CloudflareKVTokenStore, DenoKVTokenStore) or `useCache: false`.",
      { code: "invalid_input" },
    );
  }
  return { fs, path, os };
}

/** This machine's name; one stand-in for all where it may not be read (Deno without `--allow-sys=hostname`). */
function hostname(os: Os): string {
  try {
    return os.hostname();
  } catch {
    return "localhost";
  }
}

function isWindows(): boolean {
  return (globalThis as { process?: { platform?: string } }).process
    ?.platform === "win32";
}

function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** This machine's UTC offset in seconds, east positive. */
function utcOffsetSeconds(at: number): number {
  return -new Date(at * 1000).getTimezoneOffset() * 60;
}

/**
 * Parses the JSON of a token file written by this library or by the Python
 * package; `undefined` for anything else.
 */
export function parseTokenFile(text: string): StoredToken | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) {
    return undefined;
  }
  const d = data as Record<string, unknown>;
  if (typeof d.access_token !== "string" || !d.access_token) return undefined;
  if (typeof d.expiration !== "number" || !Number.isFinite(d.expiration)) {
    return undefined;
  }
  let expiration: number;
  if (
    typeof d.expiration_utc === "number" && Number.isFinite(d.expiration_utc)
  ) {
    expiration = d.expiration_utc;
  } else {
    // Written by Python: maybe shifted by the UTC offset; take the earlier reading.
    expiration = Math.min(
      d.expiration,
      d.expiration + utcOffsetSeconds(d.expiration),
    );
  }
  const token: StoredToken = { accessToken: d.access_token, expiration };
  const optional = [
    ["api_base_url", "apiBaseUrl"],
    ["refresh_token", "refreshToken"],
    ["client_id", "clientId"],
    ["org", "org"],
    ["project_id", "projectId"],
  ] as const;
  for (const [file, field] of optional) {
    const v = d[file];
    if (typeof v === "string" && v) token[field] = v;
  }
  return token;
}

/**
 * The JSON of a token file: the Python package's keys first, in its order and
 * spacing (`json.dump`), then this library's extras, which Python ignores.
 */
export function formatTokenFile(token: StoredToken): string {
  const exact = Math.floor(token.expiration);
  const data: Record<string, unknown> = {
    api_base_url: token.apiBaseUrl ?? null,
    access_token: token.accessToken,
    // What Python's utcnow()-based clock never reads as later than the truth.
    expiration: Math.min(exact, exact - utcOffsetSeconds(exact)),
    expiration_utc: exact,
  };
  if (token.refreshToken) data.refresh_token = token.refreshToken;
  if (token.clientId) data.client_id = token.clientId;
  if (token.org) data.org = token.org;
  if (token.projectId) data.project_id = token.projectId;
  const fields = Object.entries(data).map(([k, v]) =>
    `${JSON.stringify(k)}: ${JSON.stringify(v)}`
  );
  return `{${fields.join(", ")}}`;
}
