/**
 * Reading a file that only its owner should have written (token cache, lock):
 * without following a symbolic link, without blocking on a FIFO, only a
 * regular file of the current user, and never more than a size cap.
 */

type Fs = typeof import("node:fs/promises");

/** What {@linkcode readPrivateFile} found. */
export type PrivateFileRead =
  | { kind: "missing" }
  | { kind: "refused"; problem: string }
  | { kind: "read"; text: string; mtimeMs: number; ino: number };

/**
 * Reads `path` when it is a regular file of the current user of at most
 * `maxBytes`; otherwise says why not (`problem` completes "… because …" and
 * says what to do). A missing file is `missing`.
 *
 * @example
 * ```ts ignore
 * const read = await readPrivateFile(fs, "/home/me/.carto-auth/token_oauth.json", 65536);
 * if (read.kind === "refused") console.warn(read.problem);
 * ```
 */
export async function readPrivateFile(
  fs: Fs,
  path: string,
  maxBytes: number,
): Promise<PrivateFileRead> {
  const c = fs.constants;
  let handle: Awaited<ReturnType<Fs["open"]>>;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW:
    // the file itself must not be a link (where the platform has them).
    handle = await fs.open(
      path,
      c.O_RDONLY | (c.O_NOFOLLOW ?? 0) | (c.O_NONBLOCK ?? 0),
    );
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { kind: "missing" };
    return { kind: "refused", problem: openProblem(code, e) };
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      return {
        kind: "refused",
        problem: `it is ${kindOf(stat)}, not a regular file; remove it`,
      };
    }
    const uid = currentUid();
    if (uid !== undefined && stat.uid !== uid) {
      return {
        kind: "refused",
        problem: `it belongs to another user (uid ${stat.uid}), who may ` +
          `have planted it; remove it, and keep the cache in a folder of your own`,
      };
    }
    if (stat.size > maxBytes) {
      return {
        kind: "refused",
        problem: `it holds ${stat.size} bytes, more than such a file ever ` +
          `holds (${maxBytes}); remove it`,
      };
    }
    const buffer = new Uint8Array(maxBytes + 1);
    let length = 0;
    for (;;) {
      const { bytesRead } = await handle.read(
        buffer,
        length,
        buffer.length - length,
        length,
      );
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length > maxBytes) {
        return {
          kind: "refused",
          problem: `it grows past ${maxBytes} bytes as it is read; remove it`,
        };
      }
    }
    return {
      kind: "read",
      text: new TextDecoder().decode(buffer.subarray(0, length)),
      mtimeMs: stat.mtimeMs,
      ino: stat.ino,
    };
  } finally {
    await handle.close().catch(() => {});
  }
}

/**
 * The current user's id; `undefined` where there is none (Windows, workers)
 * or it may not be read (Deno without `--allow-sys=uid`).
 */
export function currentUid(): number | undefined {
  const proc = (globalThis as { process?: { getuid?: () => number } }).process;
  try {
    return proc?.getuid?.();
  } catch {
    return undefined;
  }
}

function openProblem(code: string | undefined, error: unknown): string {
  if (code === "ELOOP" || code === "EMLINK") {
    return "it is a symbolic link, which is not followed for token files; remove it";
  }
  if (code === "EACCES" || code === "EPERM") {
    return "permission denied; make it yours and readable (chmod 600), or remove it";
  }
  if (code === "EISDIR") return "it is a folder, not a file; remove it";
  return `${(error as Error)?.message ?? code}; remove it`;
}

function kindOf(stat: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): string {
  if (stat.isDirectory()) return "a folder";
  if (stat.isFIFO()) return "a FIFO (named pipe)";
  if (stat.isSocket()) return "a socket";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  return "not a file";
}
