import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { startFakeCarto } from "../src/testing/mod.ts";

const root = join(
  import.meta.dirname ?? new URL(".", import.meta.url).pathname,
  "..",
);

/** Bundles mod.ts the way a worker bundler does: browser platform, no Node built-ins. */
async function bundleForWorker() {
  return await esbuild.build({
    entryPoints: [join(root, "mod.ts")],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    metafile: true,
    logLevel: "silent",
  });
}

/** Loads a bundle as a module. */
async function importBundle(contents: Uint8Array) {
  const dir = await mkdtemp(join(tmpdir(), "carto-auth-bundle-"));
  const file = join(dir, "bundle.mjs");
  await writeFile(file, contents);
  return await import(pathToFileURL(file).href);
}

test("mod.ts bundles for a worker target with no node: import", async () => {
  const result = await bundleForWorker();
  assert.deepEqual(result.errors, []);
  const inputs = Object.keys(result.metafile.inputs);
  assert.ok(inputs.some((i) => i.endsWith("src/auth.ts")));
  assert.deepEqual(inputs.filter((i) => i.startsWith("node:")), []);
  const code = result.outputFiles[0].text;
  assert.doesNotMatch(
    code,
    /\bfrom\s*["']node:|\bimport\s*\(\s*["']node:|\brequire\(\s*["']node:/,
  );
});

test("worker builds leave the YAML parser out and say so if discovery is needed", async () => {
  const result = await bundleForWorker();
  const inputs = Object.keys(result.metafile.inputs);
  assert.deepEqual(inputs.filter((i) => i.includes("js-yaml")), []);
  assert.ok(inputs.some((i) => i.endsWith("src/yaml/none.ts")));
  const plain = await esbuild.build({
    entryPoints: [join(root, "mod.ts")],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    metafile: true,
    logLevel: "silent",
  });
  assert.ok(
    Object.keys(plain.metafile.inputs).some((i) => i.includes("js-yaml")),
  );

  const lib = await importBundle(result.outputFiles[0].contents);
  await using fake = await startFakeCarto();
  const seed = await lib.CartoAuth.fromM2M(fake.credentials, {
    endpoints: fake.endpoints,
    store: new lib.MemoryTokenStore(),
  });
  const store = new lib.MemoryTokenStore();
  await store.set("oauth", {
    accessToken: await seed.getAccessToken(),
    expiration: Math.floor(Date.now() / 1000) + 3600,
  });
  await assert.rejects(
    () => lib.CartoAuth.fromOAuth({ endpoints: fake.endpoints, store }),
    /this worker build has no YAML parser\. Pass apiBaseUrl/,
  );
});

test("a bundle with a node: import would fail, so the check above can fail", async () => {
  const dir = await mkdtemp(join(tmpdir(), "carto-auth-bundle-"));
  const entry = join(dir, "entry.ts");
  await writeFile(
    entry,
    `import { readFile } from "node:fs/promises";\nexport { readFile };\n`,
  );
  const failed = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    logLevel: "silent",
  }).then(() => false, () => true);
  assert.equal(failed, true);
});

test("the worker bundle loads and logs a machine in against the fake CARTO", async () => {
  const result = await bundleForWorker();
  const lib = await importBundle(result.outputFiles[0].contents);
  await using fake = await startFakeCarto();
  const auth = await lib.CartoAuth.fromM2M(fake.credentials, {
    endpoints: fake.endpoints,
    store: new lib.MemoryTokenStore(),
  });
  assert.ok(fake.isValidToken(await auth.getAccessToken()));
  const dw = await auth.getCartoDwClient();
  const { rows } = await dw.query("SELECT 7 AS n");
  assert.deepEqual(rows, [{ n: 7 }]);
});
