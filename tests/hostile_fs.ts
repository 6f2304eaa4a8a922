/** Helpers of the tests that put hostile files in the token cache. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { constants } from "node:fs";
import { open } from "node:fs/promises";

/** `promise`, or a failure after `ms`: what hangs (on a FIFO) must fail, not hang the suite. */
export function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`still waiting after ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Makes a FIFO (named pipe) at `path`. */
export function mkfifo(path: string): void {
  const made = spawnSync("mkfifo", ["-m", "600", path]);
  assert.equal(made.status, 0, `mkfifo ${path}: ${made.stderr}`);
}

/** Gives a reader blocked on the FIFO its end of file (only code that blocks needs it). */
export async function releaseReaders(fifo: string): Promise<void> {
  const writer = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK)
    .catch(() => undefined);
  await writer?.close();
}
