/**
 * The library side of profiles: `profile` of `CartoAuth` and of
 * `FileTokenStore` keeps a named profile's tokens in
 * `<cache>/profiles/<name>/`, beside the Python-compatible files.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import {
  CartoAuth,
  CredentialsError,
  FileTokenStore,
  MemoryTokenStore,
} from "../mod.ts";
import { startFakeCarto } from "../src/testing/mod.ts";

const run = promisify(execFile);

test("FileTokenStore({ profile }) keeps the profile's files in profiles/<name>; the default profile is Python's", async () => {
  const dir = await mkdtemp(join(tmpdir(), "carto-auth-profiles-"));
  try {
    const work = new FileTokenStore({ dir, profile: "work" });
    assert.equal(
      work.pathFor("oauth"),
      join(dir, "profiles", "work", "token_oauth.json"),
    );
    assert.equal(
      new FileTokenStore({ dir, profile: "default" }).pathFor("m2m"),
      join(dir, "token_m2m.json"),
    );
    assert.equal(
      new FileTokenStore({ profile: "work" }).pathFor("m2m"),
      join(homedir(), ".carto-auth", "profiles", "work", "token_m2m.json"),
    );
    await work.set("oauth", { accessToken: "t", expiration: 1e10 });
    assert.equal((await work.get("oauth"))?.accessToken, "t");
    assert.deepEqual(await readdir(dir), ["profiles"]);
    const mode = (await stat(join(dir, "profiles", "work"))).mode & 0o777;
    assert.equal(mode, 0o700);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("a profile name that could leave the cache folder is refused", () => {
  for (const name of ["../x", "a/b", "", ".hidden", "x".repeat(65)]) {
    assert.throws(
      () => new FileTokenStore({ profile: name }),
      (e) =>
        e instanceof CredentialsError && e.code === "invalid_input" &&
        /is not a profile name/.test(e.message),
      JSON.stringify(name),
    );
  }
});

test("CartoAuth.fromM2M({ profile }) caches in ~/.carto-auth/profiles/<name>", async () => {
  await using fake = await startFakeCarto();
  const home = await mkdtemp(join(tmpdir(), "carto-auth-profiles-"));
  try {
    // A child process with its own HOME: the default cache folder is ~/.carto-auth.
    const script = join(home, "login.ts");
    await writeFile(
      script,
      `import { CartoAuth } from ${
        JSON.stringify(new URL("../mod.ts", import.meta.url).href)
      };
const options = { endpoints: ${
        JSON.stringify(fake.endpoints)
      }, profile: "staging" };
const credentials = ${JSON.stringify(fake.credentials)};
const first = await (await CartoAuth.fromM2M(credentials, options)).getAccessToken();
const second = await (await CartoAuth.fromM2M(credentials, options)).getAccessToken();
console.log(JSON.stringify({ first, second }));
`,
    );
    const isDeno = "Deno" in globalThis;
    const root = decodeURIComponent(new URL("..", import.meta.url).pathname);
    // Asynchronous: the fake CARTO answers from this process's event loop.
    const { stdout: out } = await run(
      process.execPath,
      isDeno
        ? ["run", "-A", "--config", join(root, "deno.json"), script]
        : [script],
      { cwd: root, env: { ...process.env, HOME: home }, encoding: "utf8" },
    );
    const { first, second } = JSON.parse(out);
    assert.equal(second, first);
    assert.equal(fake.count("token"), 1);
    const store = new FileTokenStore({
      dir: join(home, ".carto-auth"),
      profile: "staging",
    });
    assert.equal((await store.get("m2m"))?.accessToken, first);
    assert.deepEqual(await readdir(join(home, ".carto-auth")), ["profiles"]);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test("profile with cacheFilepath or store is an error: both say where tokens go", () => {
  for (
    const extra of [{ cacheFilepath: "/tmp/t.json" }, {
      store: new MemoryTokenStore(),
    }]
  ) {
    assert.throws(
      () => new CartoAuth({ mode: "m2m", profile: "staging", ...extra }),
      (e) =>
        e instanceof CredentialsError && e.code === "invalid_input" &&
        /profile and (cacheFilepath|store) both say where tokens go/.test(
          e.message,
        ),
    );
  }
});
