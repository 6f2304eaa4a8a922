/**
 * Bundles the worker with the settings wrangler uses (esbuild, ES module,
 * browser platform, the `workerd` / `worker` / `browser` export conditions,
 * no Node built-ins). Wrangler does this by itself on `wrangler deploy`; the
 * tests and benchmarks use this to run the same code in workerd through
 * miniflare.
 *
 *   deno run -A examples/cloudflare-worker/build.ts    writes dist/worker.js
 */
import * as esbuild from "esbuild";

const here = new URL(".", import.meta.url).pathname;

/** Options of {@linkcode buildWorker}. */
export interface BuildOptions {
  /** Entry module, default this example's `src/index.ts`. */
  entry?: string;
  /** Minify, as `wrangler deploy --minify` does; default false. */
  minify?: boolean;
  /**
   * Keep dynamic imports in chunks of their own (`files[1…]`), instead of
   * inlining them into one file as wrangler does by default.
   */
  splitting?: boolean;
}

/** The bundled modules: `files[0]` is the entry; the rest are lazy chunks. */
export interface BuiltWorker {
  files: { path: string; contents: Uint8Array; text: string }[];
  metafile: esbuild.Metafile;
}

/** Bundles the worker in memory. */
export async function buildWorker(
  options: BuildOptions = {},
): Promise<BuiltWorker> {
  const result = await esbuild.build({
    entryPoints: [options.entry ?? `${here}src/index.ts`],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    target: "es2022",
    conditions: ["workerd", "worker", "browser"],
    minify: options.minify ?? false,
    splitting: options.splitting ?? false,
    outdir: `${here}dist`,
    entryNames: "worker",
    metafile: true,
    logLevel: "silent",
  });
  const entry = result.outputFiles.findIndex((f) =>
    /\/worker\.js$/.test(f.path)
  );
  const files = [...result.outputFiles];
  files.unshift(...files.splice(entry, 1));
  return {
    files: files.map((f) => ({
      path: f.path,
      contents: f.contents,
      text: f.text,
    })),
    metafile: result.metafile,
  };
}

if (import.meta.main) {
  const { writeFile, mkdir } = await import("node:fs/promises");
  const { dirname } = await import("node:path");
  const built = await buildWorker({ minify: true });
  for (const file of built.files) {
    await mkdir(dirname(file.path), { recursive: true });
    await writeFile(file.path, file.contents);
    console.log(`${file.path} (${file.contents.length} bytes)`);
  }
  await esbuild.stop();
}
