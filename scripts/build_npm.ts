/**
 * Builds the npm package into `dist/`: the sources Deno and Bun run, compiled
 * file by file by tsc to ES modules with `.d.ts` next to them, and a
 * package.json derived from the repository's, with every `.ts` path of
 * `exports`, `imports` and `bin` pointing at its `.js`.
 *
 *   deno run -A scripts/build_npm.ts          writes dist/
 *   deno run -A scripts/build_npm.ts --pack   …then packs it; prints the tarball's path
 *
 * Then `npm publish ./dist`. The repository's own package.json is private: it
 * describes the checkout (TypeScript sources, dev tools), not the package.
 *
 * Why tsc rather than esbuild: only tsc writes declarations, and compiling
 * file by file keeps the module graph as it is, so the CLI still loads its
 * commands on demand and runtime-specific modules stay behind their dynamic
 * imports. It also type-checks the sources against Node's types and the
 * ES2023 library that Node 20 implements.
 */
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";

const root = join(dirname(new URL(import.meta.url).pathname), "..");
const out = join(root, "dist");

/** What a user reads besides the code; README's relative links point into it. */
const DOCS = [
  "README.md",
  "LICENSE",
  "docs/cli.md",
  ...readdirSync(join(root, "examples"))
    .map((name) => `examples/${name}/README.md`)
    .filter((path) => existsSync(join(root, path))),
];

type Target = string | { [condition: string]: Target };

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  exports: Record<string, Target>;
  imports?: Record<string, Target>;
  bin: Record<string, string>;
  [field: string]: unknown;
}

const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8"));

/** `./src/x.ts` → `./src/x.js`. */
const js = (path: string) => path.replace(/\.ts$/, ".js");

/** Every `.ts` file a target names, under any condition. */
function sources(target: Target): string[] {
  return typeof target === "string"
    ? [target]
    : Object.values(target).flatMap(sources);
}

/** The same conditions, pointing at the compiled files. */
function compiled(target: Target): Target {
  return typeof target === "string" ? js(target) : Object.fromEntries(
    Object.entries(target).map(([k, v]) => [k, compiled(v)]),
  );
}

/** The published package.json: the repository's, minus what only a checkout uses. */
function npmManifest(repo: Manifest): Record<string, unknown> {
  const {
    private: _,
    scripts: _scripts,
    devDependencies: _dev,
    allowScripts: _allow,
    exports,
    imports,
    bin,
    ...rest
  } = repo;
  return {
    ...rest,
    exports: Object.fromEntries(
      Object.entries(exports).map(([subpath, target]) => [subpath, {
        types: js(target as string).replace(/\.js$/, ".d.ts"),
        default: compiled(target),
      }]),
    ),
    ...(imports && {
      imports: Object.fromEntries(
        Object.entries(imports).map(([k, v]) => [k, compiled(v)]),
      ),
    }),
    bin: Object.fromEntries(
      Object.entries(bin).map(([name, path]) => [name, js(path)]),
    ),
    files: ["**/*.js", "**/*.d.ts", "deno.json", ...DOCS],
  };
}

if (import.meta.main) {
  const repo: Manifest = readJson(join(root, "package.json"));
  const denoVersion = readJson(join(root, "deno.json")).version;
  if (repo.version !== denoVersion) {
    throw new Error(
      `package.json says version ${repo.version}, deno.json ${denoVersion}: make them agree.`,
    );
  }
  const entries = [
    ...Object.values(repo.exports).flatMap(sources),
    ...Object.values(repo.imports ?? {}).flatMap(sources),
  ];
  rmSync(out, { recursive: true, force: true });
  // deno-fmt-ignore
  execFileSync(join(root, "node_modules", ".bin", "tsc"), [
    ...new Set(entries),
    "--rootDir", root, "--outDir", out,
    "--module", "nodenext", "--moduleResolution", "nodenext",
    "--target", "es2023", "--lib", "es2023,dom,dom.iterable,esnext.disposable",
    "--types", "node", "--strict", "--skipLibCheck",
    "--declaration",
    "--allowImportingTsExtensions", "--rewriteRelativeImportExtensions",
  ], { cwd: root, stdio: "inherit" });
  // The sources' bin runs under Bun (Node does not run .ts from node_modules);
  // the compiled one runs under Node.
  const bin = join(out, js(Object.values(repo.bin)[0]));
  writeFileSync(
    bin,
    readFileSync(bin, "utf8").replace(/^#!.*\n/, "#!/usr/bin/env node\n"),
  );
  chmodSync(bin, 0o755);
  // The CLI's --version reads deno.json; tsc copied all of it, the package
  // needs only the version.
  writeFileSync(
    join(out, "deno.json"),
    JSON.stringify({ version: denoVersion }) + "\n",
  );
  for (const doc of DOCS) cpSync(join(root, doc), join(out, doc));
  writeFileSync(
    join(out, "package.json"),
    JSON.stringify(npmManifest(repo), null, 2) + "\n",
  );
  if (Deno.args.includes("--pack")) {
    const packed = JSON.parse(execFileSync("npm", ["pack", "--json"], {
      cwd: out,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }));
    console.log(join(out, packed[0].filename));
  } else {
    console.log(`${out}: npm publish ./dist`);
  }
}
