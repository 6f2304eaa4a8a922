/**
 * The renewal lock of `FileTokenStore` (issue 11, items 3 and 9): a live
 * holder keeps it however long its renewal takes and refreshes its mtime;
 * waits are bounded and end with a clear error; a FIFO, a link or an ownerless
 * file at the lock path neither hangs nor holds renewals up.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import * as nodeFs from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import {
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  stat,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { FileTokenStore } from "../mod.ts";
import { withFileLock } from "../src/stores/file_lock.ts";
import { rejection } from "./rejection.ts";
import { mkfifo, releaseReaders, within } from "./hostile_fs.ts";

async function lockDir() {
  const root = await mkdtemp(join(tmpdir(), "carto-auth-lock-"));
  const dir = join(root, ".carto-auth");
  await mkdir(dir, { mode: 0o700 });
  const store = (lockTimeoutMs?: number) =>
    new FileTokenStore({ dir, lockTimeoutMs, onWarning: () => {} });
  return {
    root,
    store,
    lockPath: `${store().pathFor("m2m")}.lock`,
    async [Symbol.asyncDispose]() {
      await rm(root, { recursive: true, force: true });
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secondsAgo = (s: number) => new Date(Date.now() - s * 1000);
/** The text of a lock held by process `pid` of this machine. */
const ownerText = (pid: number) =>
  JSON.stringify({ pid, host: hostname(), id: crypto.randomUUID() });

test("a live holder keeps the lock however long its renewal takes", async () => {
  await using l = await lockDir();
  const events: string[] = [];
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const holder = l.store().lock("m2m", async () => {
    events.push("holder in");
    // As if its token request had been running for a minute.
    await utimes(l.lockPath, secondsAgo(60), secondsAgo(60));
    entered();
    await sleep(1500);
    events.push("holder out");
  });
  await inside;
  const waiter = l.store().lock("m2m", () => {
    events.push("waiter in");
    return Promise.resolve();
  });
  await Promise.all([holder, waiter]);
  assert.deepEqual(events, ["holder in", "holder out", "waiter in"]);
});

test("the holder refreshes the lock's mtime while it works", async () => {
  await using l = await lockDir();
  await l.store().lock("m2m", async () => {
    await utimes(l.lockPath, secondsAgo(60), secondsAgo(60));
    await sleep(4500);
    const age = Date.now() - (await stat(l.lockPath)).mtimeMs;
    assert.ok(age < 4000, `the mtime is ${Math.round(age)} ms old`);
  });
  await assert.rejects(() => stat(l.lockPath), "released after use");
});

test("waiting ends after lockTimeoutMs with an error naming the holder and the lock", async () => {
  await using l = await lockDir();
  let entered!: () => void;
  const inside = new Promise<void>((r) => (entered = r));
  const holder = l.store().lock("m2m", async () => {
    entered();
    await sleep(3000);
    return "holder done";
  });
  await inside;
  let ran = false;
  const error = await rejection(
    l.store(300).lock("m2m", () => Promise.resolve(ran = true)),
  );
  assert.equal(ran, false, "the waiter did not run unlocked");
  assert.equal(error.code, "timeout");
  assert.match(
    error.message,
    new RegExp(
      `Process ${process.pid} has been renewing the CARTO token for more than 300 ms ` +
        `and still holds .*token_m2m\\.json\\.lock\\. Try again; if that process is stuck, end it or delete`,
    ),
  );
  assert.equal(await holder, "holder done", "the holder was not disturbed");
});

test("a lock of another host is taken over once its mtime stops moving, not before", async () => {
  await using l = await lockDir();
  const other = JSON.stringify({ pid: process.pid, host: `not-${hostname()}` });
  await writeFile(l.lockPath, other, { mode: 0o600 });
  const error = await rejection(
    l.store(300).lock("m2m", () => Promise.resolve()),
  );
  assert.equal(error.code, "timeout");
  assert.match(error.message, new RegExp(`on not-${hostname()}`));

  await utimes(l.lockPath, secondsAgo(20), secondsAgo(20));
  assert.equal(
    await within(5000, l.store().lock("m2m", () => Promise.resolve("ran"))),
    "ran",
  );
});

test("a lock left without an owner (a full disk mid-write) does not hold renewals up", async () => {
  await using l = await lockDir();
  await writeFile(l.lockPath, "", { mode: 0o600 });
  await utimes(l.lockPath, secondsAgo(5), secondsAgo(5));
  assert.equal(
    await within(10_000, l.store().lock("m2m", () => Promise.resolve("ran"))),
    "ran",
  );
  await assert.rejects(() => stat(l.lockPath), "no lock left behind");
});

test("a FIFO or a link at the lock path neither hangs the renewal nor is followed", async () => {
  await using l = await lockDir();
  mkfifo(l.lockPath);
  try {
    assert.equal(
      await within(10_000, l.store().lock("m2m", () => Promise.resolve("ran"))),
      "ran",
    );
  } finally {
    await releaseReaders(l.lockPath);
  }
  await assert.rejects(() => lstat(l.lockPath), "the FIFO is gone");

  const target = join(l.root, "precious");
  await writeFile(target, "keep me");
  await symlink(target, l.lockPath);
  assert.equal(
    await within(10_000, l.store().lock("m2m", () => Promise.resolve("ran"))),
    "ran",
  );
  assert.equal(await readFile(target, "utf8"), "keep me");
  await symlink("/dev/zero", l.lockPath);
  assert.equal(
    await within(10_000, l.store().lock("m2m", () => Promise.resolve("ran"))),
    "ran",
  );
});

test("a lock that replaced a gone holder's at the same inode keeps its live holder", async () => {
  await using l = await lockDir();
  const first = spawn("sleep", ["30"]);
  await once(first, "spawn");
  await writeFile(l.lockPath, ownerText(first.pid!), { mode: 0o600 });
  let entered = false;
  const waiter = l.store().lock("m2m", () => Promise.resolve(entered = true));
  await sleep(300); // the waiter has read the first holder
  // The first holder leaves and a second, alive, takes the lock. ext4 gives
  // the new file the inode number just freed; writing in place does the same
  // on any file system.
  const inode = (await lstat(l.lockPath)).ino;
  const second = ownerText(process.pid);
  await writeFile(l.lockPath, second);
  assert.equal((await lstat(l.lockPath)).ino, inode);
  first.kill();
  await once(first, "close");
  await sleep(1500);
  assert.equal(entered, false, "the waiter left the live holder's lock alone");
  assert.equal(await readFile(l.lockPath, "utf8"), second);
  await rm(l.lockPath);
  await within(5000, waiter);
  assert.equal(entered, true);
});

test("a lock seen before its owner was written is judged by the owner written next", async () => {
  await using l = await lockDir();
  await writeFile(l.lockPath, "", { mode: 0o600 }); // created, not yet written
  let entered = false;
  const waiter = l.store().lock("m2m", () => Promise.resolve(entered = true));
  await sleep(300); // the waiter has read the empty lock
  const holder = ownerText(process.pid);
  await writeFile(l.lockPath, holder);
  await sleep(2000); // a lock without an owner is taken over after 1 s
  assert.equal(entered, false, "the waiter left the live holder's lock alone");
  assert.equal(await readFile(l.lockPath, "utf8"), holder);
  await rm(l.lockPath);
  await within(5000, waiter);
  assert.equal(entered, true);
});

test("a lock removed as ownerless before its owner was written is not held", async () => {
  await using l = await lockDir();
  const other = ownerText(process.pid);
  let raced = false;
  // Between the creation of the lock and the write of its owner, a waiter
  // judges the empty file ownerless, removes it and makes its own lock.
  const fs = {
    ...nodeFs,
    async open(...args: Parameters<typeof nodeFs.open>) {
      const handle = await nodeFs.open(...args);
      if (!raced && args[0] === l.lockPath && args[1] !== undefined) {
        raced = true;
        await rm(l.lockPath);
        await writeFile(l.lockPath, other, { flag: "wx", mode: 0o600 });
      }
      return handle;
    },
  } as typeof nodeFs;
  const events: string[] = [];
  const locked = withFileLock(l.lockPath, () => {
    events.push("renewal");
    return Promise.resolve();
  }, { fs, hostname: hostname(), makeDir: () => Promise.resolve() });
  await sleep(500);
  assert.ok(raced, "the lock was created through open()");
  events.push("other lock released");
  await rm(l.lockPath);
  await within(5000, locked);
  assert.deepEqual(events, ["other lock released", "renewal"]);
});
