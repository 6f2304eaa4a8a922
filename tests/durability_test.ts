/** The token file under concurrent processes, killed writers, and a stampede of callers. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CartoAuth, FileTokenStore, MemoryTokenStore } from "../mod.ts";
import { startFakeCarto } from "../src/testing/mod.ts";

const writer = join(import.meta.dirname!, "fixtures", "cache_writer.ts");

/** Runs the writer fixture with the current runtime (Deno or Bun). */
function runWriter(path: string, id: string, rounds: number): ChildProcess {
  const args = "Deno" in globalThis ? ["run", "-A", writer] : [writer];
  return spawn(process.execPath, [...args, path, id, String(rounds)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
}

function output(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk) => (out += chunk));
    child.on("error", reject);
    child.on("close", () => resolve(out));
  });
}

test("20 processes writing and reading one token file 50 times each only ever read valid tokens", async () => {
  const dir = join(
    await mkdtemp(join(tmpdir(), "carto-auth-durable-")),
    ".carto-auth",
  );
  const path = join(dir, "token_m2m.json");
  const outputs = await Promise.all(
    Array.from({ length: 20 }, (_, i) => output(runWriter(path, `w${i}`, 50))),
  );
  const results = outputs.map((o) => JSON.parse(o.trim()));
  assert.equal(results.length, 20);
  for (const r of results) assert.deepEqual(r, { id: r.id, good: 50, bad: 0 });
  const final = await new FileTokenStore({ path }).get("m2m");
  assert.match(final?.accessToken ?? "", /^token-w\d+-49-/);
  if (process.platform !== "win32") {
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
  }
  assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith(".tmp")), []);
});

test("a writer killed with SIGKILL mid-write leaves the previous token intact", async () => {
  const dir = join(
    await mkdtemp(join(tmpdir(), "carto-auth-kill-")),
    ".carto-auth",
  );
  const path = join(dir, "token_m2m.json");
  const store = new FileTokenStore({ path, onWarning: () => {} });
  await store.set("m2m", {
    accessToken: "token-seed-0-" + "x".repeat(2000),
    expiration: 2e9,
  });
  for (let round = 0; round < 8; round++) {
    const child = runWriter(path, `k${round}`, 0);
    const exited = new Promise((resolve) => child.on("close", resolve));
    // Let it start and write for a while, then kill it at an arbitrary point.
    await new Promise((resolve) =>
      setTimeout(resolve, 400 + Math.random() * 300)
    );
    child.kill("SIGKILL");
    await exited;
    const text = await readFile(path, "utf8");
    const token = await store.get("m2m");
    assert.ok(
      token,
      `round ${round}: the file holds a whole token: ${text.slice(0, 80)}`,
    );
    assert.match(token.accessToken, /^token-(seed|k\d+)-\d+-x{2000}$/);
  }
});

test("10,000 concurrent getAccessToken() calls across two expiries make one token request each", async () => {
  await using fake = await startFakeCarto({ expiresIn: 2 });
  const auth = await CartoAuth.fromM2M(fake.credentials, {
    endpoints: fake.endpoints,
    store: new MemoryTokenStore(),
    leewaySeconds: 0,
  });
  const first = await auth.getAccessToken();
  assert.equal(fake.count("token"), 1);
  for (const expected of [2, 3]) {
    await new Promise((resolve) =>
      setTimeout(resolve, auth.expiration! * 1000 - Date.now() + 50)
    );
    const tokens = await Promise.all(
      Array.from({ length: 10_000 }, () => auth.getAccessToken()),
    );
    assert.equal(new Set(tokens).size, 1);
    assert.notEqual(tokens[0], first);
    assert.equal(fake.count("token"), expected);
  }
});

test("the renewal lock: a dead owner's lock is taken over at once, a live one is waited for", async () => {
  const dir = join(
    await mkdtemp(join(tmpdir(), "carto-auth-lock-")),
    ".carto-auth",
  );
  const store = new FileTokenStore({ dir });
  const lockPath = `${store.pathFor("m2m")}.lock`;
  await mkdir(dir, { recursive: true, mode: 0o700 });

  await writeFile(lockPath, "2147483646"); // no such process
  let started = performance.now();
  assert.equal(await store.lock("m2m", () => Promise.resolve("ran")), "ran");
  assert.ok(performance.now() - started < 1000, "not waited for");
  await assert.rejects(() => stat(lockPath), "released after use");

  await writeFile(lockPath, String(process.pid)); // alive: this process
  setTimeout(() => rm(lockPath, { force: true }), 300);
  started = performance.now();
  await store.lock("m2m", () => Promise.resolve());
  assert.ok(
    performance.now() - started >= 250,
    "waited for the owner to let go",
  );

  // Whatever fn does, the lock is released.
  await assert.rejects(
    () => store.lock("m2m", () => Promise.reject(new Error("boom"))),
    /boom/,
  );
  await assert.rejects(() => stat(lockPath));
});
