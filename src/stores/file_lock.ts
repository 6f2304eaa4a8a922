/**
 * An exclusive lock file for renewals shared by processes: created with
 * O_EXCL and holding its owner (pid, host), kept alive by its holder (the
 * mtime is refreshed, as proper-lockfile does), taken over only from an owner
 * that is gone, and waited for at most a bounded time.
 */
import { CredentialsError } from "../errors.ts";
import { sleep } from "../http.ts";
import { readPrivateFile } from "./private_file.ts";

type Fs = typeof import("node:fs/promises");

/** How often the holder refreshes the lock's mtime. */
const REFRESH_MS = 2_000;
/** A lock of another host whose mtime is older than this has lost its holder. */
const STALE_MS = 10_000;
/** A lock file without an owner is one whose writer died between create and write. */
const UNWRITTEN_MS = 1_000;
/** The longest pause between two looks at a held lock. */
const MAX_PAUSE_MS = 200;
/** Default bound on the wait for another process's renewal: beyond its own timeouts and retries. */
export const DEFAULT_LOCK_TIMEOUT_MS = 120_000;

/** What {@linkcode withFileLock} needs. */
export interface FileLockOptions {
  fs: Fs;
  /** This machine's name: a pid says nothing about a process of another host. */
  hostname: string;
  /** Creates the lock's folder; a failure runs `fn` without the lock. */
  makeDir: () => Promise<void>;
  /** The longest wait for another holder; then a `CredentialsError` (code `timeout`). */
  timeoutMs?: number;
}

interface Owner {
  pid: number;
  host?: string;
}

/**
 * Runs `fn` holding the lock file `path`. Where no lock can be made (a
 * read-only folder, a full disk), `fn` runs without it: a lock that cannot
 * exist is held by no one else either.
 *
 * @example
 * ```ts ignore
 * await withFileLock(`${tokenPath}.lock`, () => renew(), { fs, hostname, makeDir });
 * ```
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: FileLockOptions,
): Promise<T> {
  const { fs } = options;
  const me = JSON.stringify({
    pid: processId(),
    host: options.hostname,
    id: crypto.randomUUID(),
  });
  const held = await acquire(path, me, options);
  const heartbeat = held
    ? setInterval(() => {
      const now = new Date();
      fs.utimes(path, now, now).catch(() => {});
    }, REFRESH_MS)
    : undefined;
  try {
    return await fn();
  } finally {
    clearInterval(heartbeat);
    if (held) {
      const read = await readPrivateFile(fs, path, 4096);
      // Only our own lock: after a takeover the file is someone else's.
      if (read.kind === "read" && read.text === me) {
        await fs.rm(path, { force: true }).catch(() => {});
      }
    }
  }
}

/** `true` once `path` holds `me`; `false` when no lock can be made here. */
async function acquire(
  path: string,
  me: string,
  options: FileLockOptions,
): Promise<boolean> {
  const { fs, hostname } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  try {
    await options.makeDir();
  } catch {
    return false;
  }
  let pause = 10;
  for (;;) {
    const created = await create(fs, path, me);
    if (created !== "exists") return created === "held";
    const read = await readPrivateFile(fs, path, 4096);
    if (read.kind === "missing") continue;
    if (read.kind === "refused") {
      // Not a lock this library made (a FIFO, a link, another user's file).
      await fs.rm(path, { force: true }).catch((cause) => {
        throw new CredentialsError(
          `The renewal lock ${path} cannot be used: ${read.problem}.`,
          { code: "invalid_input", cause },
        );
      });
      continue;
    }
    // Held: its owner is read once; then only its inode (another lock?) and
    // mtime (the heartbeat) are watched, which costs a waiter next to
    // nothing, until the owner seems gone.
    const owner = parseOwner(read.text);
    for (;;) {
      const now = await fs.lstat(path).catch(() => undefined);
      if (now?.ino !== read.ino) break; // released or replaced: try again
      if (isAbandoned(owner, Date.now() - now.mtimeMs, hostname)) {
        // The same inode is not the same lock: ext4 gives a new lock the
        // number of the one just removed, and a lock read before its owner
        // was written has one now. Only the lock whose text was read (its
        // owner holds a random id) is removed; any other is read again.
        await removeIf(fs, path, read.text);
        break;
      }
      if (Date.now() >= deadline) {
        throw lockTimeout(path, owner, timeoutMs, hostname);
      }
      await sleep(pause * (0.5 + Math.random()), undefined, () => new Error());
      // Back off: hundreds of waiting processes must not load a busy machine.
      pause = Math.min(MAX_PAUSE_MS, pause * 1.5);
    }
  }
}

/**
 * Creates the lock `path` holding `me`: `held` when it is ours, `exists`
 * when another lock is there, `none` when none can be made here.
 */
async function create(
  fs: Fs,
  path: string,
  me: string,
): Promise<"held" | "exists" | "none"> {
  let handle: Awaited<ReturnType<Fs["open"]>>;
  try {
    handle = await fs.open(path, "wx", 0o600);
  } catch (e) {
    return (e as { code?: string }).code === "EEXIST" ? "exists" : "none";
  }
  try {
    await handle.writeFile(me);
    // Until now the lock had no owner, and a waiter may have removed it as
    // ownerless: ours only if the path still names this file (which stays
    // open, so no other file can have its inode number).
    const [mine, there] = await Promise.all([
      handle.stat(),
      fs.lstat(path).catch(() => undefined),
    ]);
    return there?.ino === mine.ino ? "held" : "exists";
  } catch {
    // Created but not written (a full disk): leave no ownerless lock behind.
    const mine = await handle.stat().catch(() => undefined);
    const there = await fs.lstat(path).catch(() => undefined);
    if (mine && there?.ino === mine.ino) {
      await fs.rm(path, { force: true }).catch(() => {});
    }
    return "none";
  } finally {
    await handle.close().catch(() => {});
  }
}

/**
 * Removes the lock `path` if it still holds `text`. (Two waiters judging the
 * same abandoned lock at once may both find it and remove it, the second
 * then removing the first one's new lock: only after a holder died, rare,
 * and at worst one extra renewal.)
 */
async function removeIf(fs: Fs, path: string, text: string): Promise<void> {
  const read = await readPrivateFile(fs, path, 4096);
  if (read.kind === "read" && read.text === text) {
    await fs.rm(path).catch(() => {});
  }
}

function isAbandoned(
  owner: Owner | undefined,
  ageMs: number,
  hostname: string,
): boolean {
  if (!owner) return ageMs > UNWRITTEN_MS;
  if (owner.host !== undefined && owner.host !== hostname) {
    return ageMs > STALE_MS; // its holder refreshes the mtime while it lives
  }
  // On this machine the process itself says whether the holder lives,
  // however long its renewal takes.
  return !isAlive(owner.pid);
}

/** The owner of a lock: `{"pid","host"}`, or a bare pid (written by 0.1, on this host). */
function parseOwner(text: string): Owner | undefined {
  if (/^[1-9]\d*$/.test(text)) return { pid: Number(text) };
  try {
    const o = JSON.parse(text);
    if (Number.isInteger(o?.pid) && o.pid > 0 && typeof o.host === "string") {
      return { pid: o.pid, host: o.host };
    }
  } catch {
    // Not an owner: an unwritten or foreign file.
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  try {
    (globalThis as unknown as {
      process: { kill(pid: number, signal: number): void };
    }).process.kill(pid, 0);
    return true;
  } catch (e) {
    // ESRCH: no such process (EPERM means it exists, owned by someone else).
    return (e as { code?: string }).code !== "ESRCH";
  }
}

function processId(): number {
  return (globalThis as { process?: { pid?: number } }).process?.pid ?? 0;
}

function lockTimeout(
  path: string,
  owner: Owner | undefined,
  timeoutMs: number,
  hostname: string,
): CredentialsError {
  const who = owner
    ? `Process ${owner.pid}${
      owner.host && owner.host !== hostname ? ` on ${owner.host}` : ""
    }`
    : "Another process";
  return new CredentialsError(
    `${who} has been renewing the CARTO token for more than ${
      timeoutMs < 1000 ? `${timeoutMs} ms` : `${Math.round(timeoutMs / 1000)} s`
    } and still holds ${path}. ` +
      `Try again; if that process is stuck, end it or delete ${path}.`,
    { code: "timeout" },
  );
}
