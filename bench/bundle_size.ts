/**
 * Size of the example Cloudflare Worker, minified and gzipped: built by
 * wrangler itself (`wrangler deploy --dry-run --minify`), and bundled the way
 * wrangler does (esbuild, ES module, browser platform, workerd/worker/browser
 * conditions) to see what it is made of; next to Google's BigQuery client +
 * google-auth-library.
 *
 *   deno run -A bench/bundle_size.ts
 *
 * The Google packages are benchmark-only dependencies in bench/package.json:
 * `npm install --prefix bench` first.
 */
import { gzipSync } from "node:zlib";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { buildWorker } from "../examples/cloudflare-worker/build.ts";

const benchDir = new URL(".", import.meta.url).pathname;
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
const gz = (bytes: Uint8Array | string) => gzipSync(bytes).length;
const line = (label: string, min: number, gzipped: number, note = "") =>
  console.log(
    `${label.padEnd(44)} ${kb(min).padStart(9)} min ${
      kb(gzipped).padStart(9)
    } gz${note ? `  ${note}` : ""}`,
  );

// 0. What `wrangler deploy --minify` would upload (the npm route:
//    package.json conditions), and what `deno bundle` makes of the same worker
//    (the JSR route: deno.json's import map), and of each door alone.
const outdir = mkdtempSync(join(tmpdir(), "carto-auth-wrangler-"));
const wrangler = execFileSync(
  new URL("../node_modules/.bin/wrangler", import.meta.url).pathname,
  ["deploy", "--dry-run", "--minify", "--outdir", outdir],
  {
    cwd: new URL("../examples/cloudflare-worker/", import.meta.url).pathname,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    encoding: "utf8",
  },
);
const uploaded = readFileSync(join(outdir, "index.js"));
line(
  `wrangler ${
    /wrangler (\d+\.\d+\.\d+)/.exec(wrangler)?.[1] ?? "?"
  } deploy --dry-run --minify`,
  uploaded.length,
  gz(uploaded),
  "goal ≤ 40 KB gz",
);
const denoBundle = (entry: string) => {
  const out = join(outdir, "deno-bundle.js");
  execFileSync(
    new URL("../node_modules/.bin/deno", import.meta.url).pathname,
    ["bundle", "--platform", "browser", "--minify", "-o", out, entry],
    { cwd: new URL("..", import.meta.url).pathname, stdio: "ignore" },
  );
  const code = readFileSync(out);
  return [code.length, gz(code)] as const;
};
line(
  "deno bundle --platform browser --minify",
  ...denoBundle("examples/cloudflare-worker/src/index.ts"),
  "goal ≤ 40 KB gz",
);
line("  @carto/auth/worker alone", ...denoBundle("worker.ts"));
line(
  "  @carto/auth alone (has the YAML parser)",
  ...denoBundle("mod.ts"),
);

// 1. The example worker in one file, bundled as wrangler does.
const single = await buildWorker({ minify: true });
const file = single.files[0].contents;
line("esbuild with wrangler's settings", file.length, gz(file));

// What it is made of (minified bytes in the output, per package or source folder).
const parts = new Map<string, number>();
for (
  const [input, { bytesInOutput }] of Object.entries(
    Object.values(single.metafile.outputs)[0].inputs,
  )
) {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1];
  const name = pkg ??
    (input.includes("examples/")
      ? "the worker (src/index.ts)"
      : "@carto/auth (src/)");
  parts.set(name, (parts.get(name) ?? 0) + bytesInOutput);
}
for (const [name, bytes] of [...parts].sort((a, b) => b[1] - a[1])) {
  console.log(`  ${name.padEnd(42)} ${kb(bytes).padStart(9)} min`);
}

// 2. The same with code splitting: what loads at start vs. what loads only
//    for interactive login and API-base-URL discovery (js-yaml).
const split = await buildWorker({ minify: true, splitting: true });
const byPath = new Map(split.files.map((f) => [f.path, f]));
const eager = new Set<string>();
const visit = (path: string) => {
  if (eager.has(path)) return;
  eager.add(path);
  const out = Object.entries(split.metafile.outputs).find(([p]) =>
    path.endsWith(p)
  );
  for (const imp of out?.[1].imports ?? []) {
    if (imp.kind === "import-statement") {
      visit(
        [...byPath.keys()].find((p) =>
          p.endsWith(imp.path.replace(/^.*\//, "/"))
        )!,
      );
    }
  }
};
visit(split.files[0].path);
const sum = (paths: string[]) => {
  const files = paths.map((p) => byPath.get(p)!.contents);
  return [
    files.reduce((n, f) => n + f.length, 0),
    files.reduce((n, f) => n + gz(f), 0),
  ];
};
const [eagerMin, eagerGz] = sum([...eager]);
const lazy = [...byPath.keys()].filter((p) => !eager.has(p));
const [lazyMin, lazyGz] = sum(lazy);
line(`code-split: loaded at start (${eager.size} modules)`, eagerMin, eagerGz);
line(
  `code-split: lazy (${lazy.length} modules: discovery)`,
  lazyMin,
  lazyGz,
);
for (const p of lazy) {
  const f = byPath.get(p)!.contents;
  if (f.length > 4096) line(`  ${p.replace(/^.*\//, "")}`, f.length, gz(f));
}

// 3. Hono alone, for reference.
const hono = await esbuild.build({
  stdin: {
    contents:
      `import { Hono } from "hono"; export default new Hono().get("/", (c) => c.text("hi"));`,
    resolveDir: benchDir,
  },
  bundle: true,
  write: false,
  format: "esm",
  platform: "browser",
  conditions: ["workerd", "worker", "browser"],
  minify: true,
  logLevel: "silent",
});
line(
  "Hono hello world (reference)",
  hono.outputFiles[0].contents.length,
  gz(hono.outputFiles[0].contents),
);

// 4. Google's BigQuery client + google-auth-library.
const google = {
  stdin: {
    contents: `export { BigQuery } from "@google-cloud/bigquery";\n` +
      `export { GoogleAuth } from "google-auth-library";\n`,
    resolveDir: benchDir,
  },
  bundle: true,
  write: false as const,
  format: "esm" as const,
  minify: true,
  logLevel: "silent" as const,
};
if (!existsSync(`${benchDir}node_modules/@google-cloud/bigquery`)) {
  console.log(
    "@google-cloud/bigquery: not installed; run `npm install --prefix bench`",
  );
} else {
  const forWorker = await esbuild.build({
    ...google,
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
  }).then(() => undefined, (e: esbuild.BuildFailure) => e.errors);
  if (forWorker) {
    const builtins = new Set(
      forWorker.map((e) => /Could not resolve "([^"]+)"/.exec(e.text)?.[1])
        .filter(Boolean),
    );
    console.log(
      `@google-cloud/bigquery + google-auth-library for a worker: does not bundle — ` +
        `${forWorker.length} errors, unresolved: ${
          [...builtins].slice(0, 12).join(", ")
        }${builtins.size > 12 ? ", …" : ""}`,
    );
  } else {
    console.log(
      "@google-cloud/bigquery + google-auth-library bundled for a worker (unexpected)",
    );
  }
  const forNode = await esbuild.build({
    ...google,
    platform: "node",
    format: "esm",
  });
  const code = forNode.outputFiles[0].contents;
  line(
    "@google-cloud/bigquery + google-auth-library, Node",
    code.length,
    gz(code),
    "(Node target: no worker build exists)",
  );
}
await esbuild.stop();
