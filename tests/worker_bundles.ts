/**
 * Workers as the real tools bundle them, for each way of getting the library:
 * from npm, `wrangler deploy --dry-run` of the example worker (package.json
 * conditions; no Cloudflare account needed), and from JSR, `deno bundle`
 * (deno.json's import map, no conditions). Neither carries the YAML parser,
 * needs `nodejs_compat` or imports a Node built-in.
 *
 * Run once, by the `integration` run of `deno task test`; the name keeps it
 * out of the Deno and Bun runs (it drives other programs either way).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { startFakeCarto } from "../src/testing/mod.ts";

const root = decodeURIComponent(new URL("..", import.meta.url).pathname);
const example = join(root, "examples", "cloudflare-worker");
const bin = (name: string) => join(root, "node_modules", ".bin", name);

/** Runs `file args…` in `cwd`; resolves with what it printed. */
function run(file: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        cwd,
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
      },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`${file} failed: ${error.message}\n${stderr}`))
          : resolve(stdout + stderr),
    );
  });
}

/** `deno bundle` for the browser platform, as for a worker; the bundle's path. */
async function denoBundle(entry: string): Promise<string> {
  const out = join(await mkdtemp(join(tmpdir(), "carto-auth-bundle-")), "w.js");
  await run(
    bin("deno"),
    ["bundle", "--platform", "browser", "--minify", "-o", out, entry],
    root,
  );
  return out;
}

/** js-yaml's error class; the parser is in a bundle if its name is. */
const YAML_PARSER = /YAMLException/;
/** Texts of the browser login and of the file store's lock. */
const BROWSER_LOGIN = /did not answer the code exchange/;
const FILE_STORE = /no file system here to keep the token in/;
const NODE_IMPORT =
  /\bfrom\s*["']node:|\bimport\s*\(\s*["']node:|\brequire\(\s*["']node:/;

test("wrangler deploy --dry-run bundles the example worker without nodejs_compat, Node built-ins or the YAML parser", async () => {
  const config = await readFile(join(example, "wrangler.toml"), "utf8");
  const settings = config.split("\n").filter((l) => !/^\s*#/.test(l));
  assert.ok(
    !settings.some((l) => l.includes("nodejs_compat")),
    "no compatibility flag brings Node's APIs in",
  );
  const outdir = await mkdtemp(join(tmpdir(), "carto-auth-wrangler-"));
  const output = await run(
    bin("wrangler"),
    ["deploy", "--dry-run", "--minify", "--outdir", outdir],
    example,
  );
  const code = await readFile(join(outdir, "index.js"), "utf8");
  assert.match(output, /Total Upload: [\d.]+ KiB \/ gzip: [\d.]+ KiB/);
  assert.match(code, /client_credentials/);
  // Node built-ins are reached through process.getBuiltinModule at run time,
  // never imported.
  assert.doesNotMatch(code, NODE_IMPORT);
  assert.doesNotMatch(code, YAML_PARSER);
  // wrangler inlines dynamic imports: what a worker cannot use must be
  // unreachable, not merely lazy.
  assert.doesNotMatch(code, BROWSER_LOGIN);
  assert.doesNotMatch(code, FILE_STORE);
});

test("deno bundle (JSR's resolution): the example worker and @carto/auth/worker leave the YAML parser out; @carto/auth keeps it", async () => {
  const worker = await readFile(
    await denoBundle("examples/cloudflare-worker/src/index.ts"),
    "utf8",
  );
  assert.match(worker, /client_credentials/);
  assert.doesNotMatch(worker, YAML_PARSER);
  assert.doesNotMatch(worker, NODE_IMPORT);
  assert.doesNotMatch(worker, BROWSER_LOGIN);
  assert.doesNotMatch(worker, FILE_STORE);
  // deno.json maps #yaml to js-yaml with no conditions: the main door, which
  // offers discovery, brings the parser along (so the checks above can fail).
  const full = await readFile(await denoBundle("mod.ts"), "utf8");
  assert.match(full, YAML_PARSER);
  assert.match(full, BROWSER_LOGIN);
  assert.match(full, FILE_STORE);
});

test("@carto/auth/worker, bundled by deno bundle, logs a machine in and asks for apiBaseUrl where discovery would be needed", async () => {
  const bundle = await denoBundle("worker.ts");
  const lib = await import(pathToFileURL(bundle).href);
  await using fake = await startFakeCarto();
  const m2m = await lib.CartoAuth.fromM2M(fake.credentials, {
    endpoints: fake.endpoints,
    store: new lib.MemoryTokenStore(),
  });
  const { rows } = await (await m2m.getCartoDwClient()).query("SELECT 3 AS n");
  assert.deepEqual(rows, [{ n: 3 }]);
  // A person's token without its API base URL: only discovery could find it.
  const store = new lib.MemoryTokenStore();
  await store.set("oauth", {
    accessToken: await m2m.getAccessToken(),
    expiration: Math.floor(Date.now() / 1000) + 3600,
  });
  await assert.rejects(
    () => lib.CartoAuth.fromOAuth({ endpoints: fake.endpoints, store }),
    (e: Error) => {
      assert.ok(e instanceof lib.CredentialsError);
      assert.match(
        e.message,
        /@carto\/auth\/worker leaves the YAML parser out\. Import @carto\/auth, or pass apiBaseUrl/,
      );
      return true;
    },
  );
  // No token and no browser login: the error says where to log in.
  await assert.rejects(
    () =>
      lib.CartoAuth.fromOAuth({
        endpoints: fake.endpoints,
        store: new lib.MemoryTokenStore(),
      }),
    (e: Error & { code?: string }) => {
      assert.ok(e instanceof lib.CredentialsError);
      assert.equal(e.code, "login_required");
      assert.match(e.message, /no login in a browser/);
      return true;
    },
  );
  // Token files asked for by name: refused, saying what to pass instead.
  assert.throws(
    () => new lib.CartoAuth({ mode: "m2m", cacheFilepath: "/tmp/x.json" }),
    /cacheFilepath names token files, and @carto\/auth\/worker leaves the file store out/,
  );
  assert.throws(
    () => new lib.CartoAuth({ mode: "m2m", profile: "work" }),
    /profile names token files, and @carto\/auth\/worker leaves the file store out\. Import @carto\/auth, or pass a store/,
  );
  // With no store named, the worker door keeps the token in memory even
  // where a file system exists (here, Deno): a fresh instance asks again.
  const before = fake.count("token");
  const first = await lib.CartoAuth.fromM2M(fake.credentials, {
    endpoints: fake.endpoints,
  });
  await first.getAccessToken();
  const second = await lib.CartoAuth.fromM2M(fake.credentials, {
    endpoints: fake.endpoints,
  });
  await second.getAccessToken();
  assert.equal(fake.count("token") - before, 2);
});
