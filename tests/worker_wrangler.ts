/**
 * The example worker built by real wrangler, as `wrangler deploy` would
 * upload it (`--dry-run`: no Cloudflare account needed): without
 * `nodejs_compat`, with no Node built-in imported and without the YAML
 * parser.
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

const root = decodeURIComponent(new URL("..", import.meta.url).pathname);
const example = join(root, "examples", "cloudflare-worker");

/** `wrangler deploy --dry-run --minify` of the example into a fresh folder. */
async function dryRun(): Promise<{ output: string; code: string }> {
  const outdir = await mkdtemp(join(tmpdir(), "carto-auth-wrangler-"));
  const output = await new Promise<string>((resolve, reject) => {
    execFile(
      join(root, "node_modules", ".bin", "wrangler"),
      ["deploy", "--dry-run", "--minify", "--outdir", outdir],
      {
        cwd: example,
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
      },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`wrangler failed: ${error.message}\n${stderr}`))
          : resolve(stdout + stderr),
    );
  });
  return { output, code: await readFile(join(outdir, "index.js"), "utf8") };
}

test("wrangler deploy --dry-run bundles the example worker without nodejs_compat, Node built-ins or the YAML parser", async () => {
  const config = await readFile(join(example, "wrangler.toml"), "utf8");
  const settings = config.split("\n").filter((l) => !/^\s*#/.test(l));
  assert.ok(
    !settings.some((l) => l.includes("nodejs_compat")),
    "no compatibility flag brings Node's APIs in",
  );
  const { output, code } = await dryRun();
  assert.match(output, /Total Upload: [\d.]+ KiB \/ gzip: [\d.]+ KiB/);
  assert.match(code, /CartoAuth|fromM2M|client_credentials/);
  // Node built-ins are reached through process.getBuiltinModule at run time,
  // never imported.
  assert.doesNotMatch(
    code,
    /\bfrom\s*["']node:|\bimport\s*\(\s*["']node:|\brequire\(\s*["']node:/,
  );
  // js-yaml's error class and the message of the stub that replaces it.
  assert.doesNotMatch(code, /YAMLException/);
  assert.match(code, /this worker build has no YAML parser/);
});
