/**
 * The token cache on a hostile machine (issue 11, items 6 and 9): FIFOs,
 * links, huge and unreadable files, files and folders of other users, and a
 * cached api_base_url that would send the token elsewhere.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  chmod,
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CartoAuth, FileTokenStore } from "../mod.ts";
import { formatTokenFile } from "../src/stores/file.ts";
import { startFakeCarto } from "../src/testing/mod.ts";
import { rejection } from "./rejection.ts";
import { ROOT, setup } from "./cli_helpers.ts";
import { mkfifo, releaseReaders, within } from "./hostile_fs.ts";

const isRoot = process.getuid?.() === 0;
/** A user id that is not ours (nobody). */
const OTHER_UID = 65534;
const needsRoot = isRoot ? false : "giving a file to another user needs root";

const token = (accessToken: string, apiBaseUrl?: string) =>
  formatTokenFile({
    accessToken,
    expiration: Math.floor(Date.now() / 1000) + 3600,
    apiBaseUrl,
  });

/** A private cache folder, removed after the test. */
async function cacheDir() {
  const root = await mkdtemp(join(tmpdir(), "carto-auth-hostile-"));
  const dir = join(root, ".carto-auth");
  await mkdir(dir, { mode: 0o700 });
  const warnings: string[] = [];
  return {
    root,
    dir,
    warnings,
    store: new FileTokenStore({ dir, onWarning: (m) => warnings.push(m) }),
    async [Symbol.asyncDispose]() {
      await rm(root, { recursive: true, force: true });
    },
  };
}

test("a FIFO at the token path is ignored with a warning, not waited on; a renewal replaces it", async () => {
  await using c = await cacheDir();
  const path = c.store.pathFor("m2m");
  mkfifo(path);
  try {
    assert.equal(await within(10_000, c.store.get("m2m")), undefined);
    assert.match(
      c.warnings.join("\n"),
      /ignoring the token cache .*: it is a FIFO/,
    );
    await using fake = await startFakeCarto();
    const auth = await within(
      20_000,
      CartoAuth.fromM2M(fake.credentials, {
        endpoints: fake.endpoints,
        store: c.store,
      }),
    );
    assert.ok((await lstat(path)).isFile(), "the FIFO was replaced");
    assert.equal(
      (await c.store.get("m2m"))?.accessToken,
      await auth.getAccessToken(),
    );
  } finally {
    await releaseReaders(path);
  }
});

test("a symbolic link at the token path is not followed, not even to /dev/zero", async () => {
  await using c = await cacheDir();
  const path = c.store.pathFor("oauth");
  await symlink("/dev/zero", path);
  assert.equal(await within(10_000, c.store.get("oauth")), undefined);
  assert.match(c.warnings.join("\n"), /symbolic link, which is not followed/);

  // A link to a good token file elsewhere is not followed either, and a new
  // token replaces the link, not the file it points to.
  const elsewhere = join(c.root, "planted.json");
  await writeFile(elsewhere, token("planted-token"), { mode: 0o600 });
  await rm(path);
  await symlink(elsewhere, path);
  assert.equal(await c.store.get("oauth"), undefined);
  await c.store.set("oauth", { accessToken: "mine", expiration: 2e9 });
  assert.ok((await lstat(path)).isFile());
  assert.match(await readFile(elsewhere, "utf8"), /planted-token/);
});

test("a token file far larger than any token is not read", async () => {
  await using c = await cacheDir();
  const path = c.store.pathFor("m2m");
  // Valid JSON holding a token, padded to 1 MiB.
  await writeFile(path, token("huge-token").padEnd(1 << 20, " "), {
    mode: 0o600,
  });
  assert.equal(await c.store.get("m2m"), undefined);
  assert.match(c.warnings.join("\n"), /holds 1048576 bytes, more than/);
});

test("a cache that cannot be read says why instead of passing for no login", async () => {
  await using c = await cacheDir();
  // A folder where the file should be.
  await mkdir(c.store.pathFor("oauth"));
  assert.equal(await c.store.get("oauth"), undefined);
  assert.match(c.warnings.join("\n"), /token_oauth\.json: it is a folder/);

  // A file its owner cannot read; root reads anything, so run the reader as
  // another user then.
  const path = c.store.pathFor("m2m");
  await writeFile(path, token("unreadable-token"), { mode: 0o000 });
  if (isRoot) {
    for (const p of [c.root, c.dir, path]) await chown(p, OTHER_UID, OTHER_UID);
  }
  const fixture = join(import.meta.dirname!, "fixtures", "read_cache.ts");
  const runtime = "Deno" in globalThis
    ? [process.execPath, "run", "-A", fixture, path]
    : [process.execPath, fixture, path];
  const command = isRoot
    ? [
      "setpriv",
      `--reuid=${OTHER_UID}`,
      `--regid=${OTHER_UID}`,
      "--clear-groups",
      "env",
      `HOME=${c.root}`,
      `DENO_DIR=${join(c.root, ".deno")}`,
      ...runtime,
    ]
    : runtime;
  const child = spawn(command[0], command.slice(1), {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (chunk) => (out += chunk));
  await new Promise((resolve) => child.on("close", resolve));
  const result = JSON.parse(out);
  assert.equal(result.token, null);
  assert.match(
    result.warnings.join("\n"),
    /token_m2m\.json: permission denied; make it yours and readable \(chmod 600\)/,
  );
});

test("a token file of another user is ignored: a planted token is never used", {
  skip: needsRoot,
}, async () => {
  await using c = await cacheDir();
  await using fake = await startFakeCarto();
  const path = c.store.pathFor("m2m");
  await writeFile(path, token("planted-token", fake.apiBaseUrl), {
    mode: 0o644,
  });
  await chown(path, OTHER_UID, OTHER_UID);
  assert.equal(await c.store.get("m2m"), undefined);
  assert.match(
    c.warnings.join("\n"),
    /belongs to another user \(uid 65534\), who may have planted it/,
  );
  const auth = await CartoAuth.fromM2M(fake.credentials, {
    endpoints: fake.endpoints,
    store: c.store,
  });
  assert.notEqual(await auth.getAccessToken(), "planted-token");
  assert.equal(fake.count("token"), 1);
});

test("a sticky (1777) cache folder keeps its mode; a loose folder of our own is tightened", async () => {
  await using c = await cacheDir();
  const shared = join(c.root, "shared");
  await mkdir(shared);
  await chmod(shared, 0o1777);
  const warnings: string[] = [];
  const store = new FileTokenStore({
    dir: shared,
    onWarning: (m) => warnings.push(m),
  });
  await store.set("oauth", { accessToken: "mine", expiration: 2e9 });
  assert.equal((await stat(shared)).mode & 0o7777, 0o1777, "sticky bit kept");
  assert.equal((await stat(store.pathFor("oauth"))).mode & 0o777, 0o600);
  assert.match(
    warnings.join("\n"),
    /is shared with other users \(mode 1777.*left as it is/,
  );
  // The library's own folder, too open, is still tightened.
  await chmod(c.dir, 0o755);
  await c.store.set("oauth", { accessToken: "mine", expiration: 2e9 });
  assert.equal((await stat(c.dir)).mode & 0o777, 0o700);
});

test("a cache folder of another user is not chmod-ed", {
  skip: needsRoot,
}, async () => {
  await using c = await cacheDir();
  const theirs = join(c.root, "theirs");
  await mkdir(theirs, { mode: 0o755 });
  await chown(theirs, OTHER_UID, OTHER_UID);
  const warnings: string[] = [];
  const store = new FileTokenStore({
    dir: theirs,
    onWarning: (m) => warnings.push(m),
  });
  await store.set("oauth", { accessToken: "mine", expiration: 2e9 });
  assert.equal((await stat(theirs)).mode & 0o7777, 0o755);
  assert.match(warnings.join("\n"), /owner uid 65534\); left as it is/);
});

test("a cached api_base_url gets the checks of the apiBaseUrl option", async () => {
  await using c = await cacheDir();
  await using fake = await startFakeCarto();
  const seed = await CartoAuth.fromM2M(fake.credentials, {
    endpoints: fake.endpoints,
    useCache: false,
  });
  const valid = await seed.getAccessToken();
  for (
    const [planted, said] of [
      ["http://192.0.2.10:8080", /must use https/],
      ["https://api.carto.com@evil.example", /must not contain a user name/],
      ["javascript:alert(1)", /must use https/],
      ["https://evil.example/?x=1", /must not have a query/],
    ] as const
  ) {
    await writeFile(c.store.pathFor("oauth"), token(valid, planted), {
      mode: 0o600,
    });
    const sent: string[] = [];
    const log: string[] = [];
    const auth = new CartoAuth({
      mode: "oauth",
      endpoints: fake.endpoints,
      store: c.store,
      interactive: false,
      log: (m) => log.push(m),
      // The network as seen from here: record where anything would go.
      fetch: (input, init) => {
        sent.push(String(input instanceof Request ? input.url : input));
        return globalThis.fetch(input, init);
      },
    });
    const error = await rejection(auth.getAccessToken());
    assert.equal(error.code, "login_required", planted);
    assert.equal(auth.getApiBaseUrl(), undefined);
    assert.match(log.join("\n"), /ignoring the cached token/);
    assert.match(log.join("\n"), said);
    assert.deepEqual(sent, [], "nothing was sent anywhere");
  }
  // A sound cached value is used, normalized like the option.
  await writeFile(
    c.store.pathFor("oauth"),
    token(valid, `${fake.apiBaseUrl}/`),
    { mode: 0o600 },
  );
  const auth = new CartoAuth({
    mode: "oauth",
    endpoints: fake.endpoints,
    store: c.store,
    interactive: false,
  });
  assert.equal(await auth.getAccessToken(), valid);
  assert.equal(auth.getApiBaseUrl(), fake.apiBaseUrl);
});

test("the CLI: status and token neither hang on FIFOs in the cache nor pass them for no login", async () => {
  await using s = await setup();
  await mkdir(s.cacheDir, { recursive: true, mode: 0o700 });
  const fifos = ["token_oauth.json", "token_m2m.json", "token_m2m.json.lock"]
    .map((name) => join(s.cacheDir, name));
  for (const fifo of fifos) mkfifo(fifo);
  try {
    const status = await s.run(["status"]);
    assert.notEqual(status.signal, "SIGTERM", "status ended by itself");
    assert.match(
      status.stderr,
      /ignoring the token cache .*token_oauth\.json: it is a FIFO \(named pipe\), not a regular file; remove it/,
    );
    const run = await s.run(["token", "--m2m"], { env: s.m2mEnv });
    assert.equal(run.code, 0, run.stderr);
    assert.ok(s.fake.isValidToken(run.stdout.trim()));
    assert.ok((await lstat(fifos[1])).isFile(), "the token file replaced it");
  } finally {
    for (const fifo of fifos) await releaseReaders(fifo);
  }
});

test("the CLI: token prints no token of a linked or oversized cache file, and says why", async () => {
  await using s = await setup();
  await mkdir(s.cacheDir, { recursive: true, mode: 0o700 });
  const path = join(s.cacheDir, "token_oauth.json");
  // A fresh token file of our own elsewhere, linked in the cache's place.
  const elsewhere = join(s.dir, "planted.json");
  await writeFile(elsewhere, token("planted-by-link"), { mode: 0o600 });
  await symlink(elsewhere, path);
  const linked = await s.run(["token"]);
  assert.equal(linked.code, 4, linked.stderr);
  assert.equal(linked.stdout, "");
  assert.match(linked.stderr, /symbolic link, which is not followed/);

  // Valid JSON holding a token, padded to 1 MiB.
  await rm(path);
  await writeFile(path, token("planted-huge").padEnd(1 << 20, " "), {
    mode: 0o600,
  });
  const huge = await s.run(["token"]);
  assert.equal(huge.code, 4, huge.stderr);
  assert.equal(huge.stdout, "");
  assert.match(huge.stderr, /holds 1048576 bytes, more than/);

  // The same token in a sound file is printed: the checks refused the others.
  await writeFile(path, token("planted-huge"), { mode: 0o600 });
  assert.equal((await s.run(["token"])).stdout, "planted-huge\n");
});

test("the CLI: token prints no token of a file of another user", {
  skip: needsRoot,
}, async () => {
  await using s = await setup();
  await mkdir(s.cacheDir, { recursive: true, mode: 0o700 });
  const path = join(s.cacheDir, "token_oauth.json");
  await writeFile(path, token("planted-token"), { mode: 0o644 });
  await chown(path, OTHER_UID, OTHER_UID);
  const run = await s.run(["token"]);
  assert.equal(run.code, 4, run.stderr);
  assert.equal(run.stdout, "");
  assert.match(run.stderr, /belongs to another user \(uid 65534\)/);
});

test(
  "Deno with the precise permissions of docs/cli.md, or without sys=uid,hostname: token renews, then reads the cache",
  {
    skip: "Deno" in globalThis ? false : "Deno only",
  },
  async () => {
    await using s = await setup();
    for (const sys of ["homedir,uid,hostname", "homedir"]) {
      await rm(s.cacheDir, { recursive: true, force: true });
      for (const round of ["renews", "reads the cache"]) {
        // Through sh: Deno's child_process hands its permissions to a Deno it spawns.
        const child = spawn("/bin/sh", [
          "-c",
          `exec "$DENO" run --allow-net --allow-env --allow-read --allow-write ` +
          `--allow-run --allow-sys=${sys} "$CLI" token --m2m`,
        ], {
          cwd: ROOT,
          env: s.env({
            ...s.m2mEnv,
            DENO: process.execPath,
            CLI: join(ROOT, "cli.ts"),
          }),
        });
        let out = "", err = "";
        child.stdout.on("data", (c) => (out += c));
        child.stderr.on("data", (c) => (err += c));
        const code = await new Promise((r) => child.on("close", r));
        assert.equal(code, 0, `--allow-sys=${sys}, ${round}: ${err}`);
        assert.ok(s.fake.isValidToken(out.trim()));
      }
    }
    assert.equal(s.fake.count("token"), 2, "one renewal per cache");
  },
);
