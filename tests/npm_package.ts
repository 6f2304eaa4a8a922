/**
 * The npm package as a Node user gets it: built and packed by
 * `scripts/build_npm.ts`, installed from the tarball into an empty project,
 * then run with nothing but Node on PATH: the three entry points, their
 * types, `carto-auth --help`, `status`, and an M2M login against a fake CARTO
 * served by the package's own `@carto/auth/testing`.
 *
 * Part of the `integration` run of `deno task test`; its name keeps it out of the Deno and
 * Bun runs.
 */
import { before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join, relative } from "node:path";
import { assertNoSecrets, exactEnv, ROOT } from "./cli_helpers.ts";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd` with exactly `env` (see exactEnv; `env` itself is found on this process's PATH) in `cwd`. */
function run(
  cmd: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<Run> {
  const [file, ...args] = exactEnv(env, cmd);
  return new Promise((resolve) => {
    execFile(
      which(file),
      args,
      { cwd, env },
      (error, stdout, stderr) =>
        resolve({
          code: error ? Number(error.code ?? 1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

/** The first `name` on the PATH of this process. */
function which(name: string): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error(`${name} is not on PATH`);
}

let project = "";
let installed = "";
/** Only Node, and the project's bins (`carto-auth`). */
let nodeEnv: Record<string, string> = {};
const repo = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));

before(async () => {
  const build = await run(
    [
      join(ROOT, "node_modules/.bin/deno"),
      "run",
      "-A",
      "scripts/build_npm.ts",
      "--pack",
    ],
    { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
    ROOT,
  );
  assert.equal(build.code, 0, build.stderr);
  const tarball = build.stdout.trim().split("\n").at(-1)!;
  project = await mkdtemp(join(tmpdir(), "carto-auth-npm-"));
  await writeFile(
    join(project, "package.json"),
    JSON.stringify({ name: "try-carto-auth", private: true, type: "module" }),
  );
  // hono is an optional peer: only @carto/auth/testing needs it.
  const install = await run(
    [
      "npm",
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      tarball,
      `hono@${repo.devDependencies.hono}`,
    ],
    { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
    project,
  );
  assert.equal(install.code, 0, install.stderr);
  installed = join(project, "node_modules", "@carto", "auth");
  const bin = join(project, "bin");
  await mkdir(bin);
  await symlink(which("node"), join(bin, "node"));
  nodeEnv = {
    PATH: [bin, join(project, "node_modules", ".bin")].join(delimiter),
    HOME: project,
    NO_COLOR: "1",
  };
});

/** Runs an ES module under Node in the project. */
async function node(code: string, env = nodeEnv): Promise<Run> {
  const file = join(project, `script-${crypto.randomUUID()}.mjs`);
  await writeFile(file, code);
  return run(["node", file], env, project);
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)));
}

test("the package holds compiled modules, their types and the docs; nothing of the checkout", async () => {
  const files = await filesUnder(installed);
  const strays = files.filter((f) =>
    !/\.(js|d\.ts|md)$/.test(f) &&
    !["package.json", "deno.json", "LICENSE"].includes(f)
  );
  assert.deepEqual(strays, []);
  assert.deepEqual(
    files.filter((f) => /(^|\/)(tests|bench|scripts)\//.test(f)),
    [],
  );
  for (const f of files.filter((f) => f.endsWith(".js"))) {
    assert.ok(files.includes(f.replace(/\.js$/, ".d.ts")), `types for ${f}`);
  }
  // Every relative link of the README leads to a file of the package.
  const readme = await readFile(join(installed, "README.md"), "utf8");
  const links = [...readme.matchAll(/\]\((?!https?:|#)([^)#]+)/g)].map((m) =>
    m[1]
  );
  assert.ok(links.length > 0);
  for (const link of links) {
    assert.ok(files.includes(link), `README link ${link}`);
  }

  const manifest = JSON.parse(
    await readFile(join(installed, "package.json"), "utf8"),
  );
  assert.equal(manifest.private, undefined);
  assert.equal(manifest.devDependencies, undefined);
  assert.equal(manifest.dependencies.hono, undefined);
  assert.deepEqual(manifest.peerDependenciesMeta.hono, { optional: true });
  assert.deepEqual(manifest.engines, repo.engines);
  assert.equal(manifest.version, repo.version);
});

test("each entry point imports under Node", async () => {
  const r = await node(`
    const names = async (s) => Object.keys(await import(s)).sort();
    console.log(JSON.stringify({
      main: await names("@carto/auth"),
      worker: await names("@carto/auth/worker"),
      cli: await names("@carto/auth/cli"),
      testing: await names("@carto/auth/testing"),
    }));
  `);
  assert.equal(r.code, 0, r.stderr);
  const { main, worker, cli, testing } = JSON.parse(r.stdout);
  assert.deepEqual(
    worker,
    main.filter((name: string) => name !== "FileTokenStore"),
    "the worker door has the same names, but for the file store",
  );
  for (
    const name of [
      "CartoAuth",
      "CredentialsError",
      "CartoDwClient",
      "MemoryTokenStore",
      "FileTokenStore",
      "CloudflareKVTokenStore",
      "DenoKVTokenStore",
    ]
  ) {
    assert.ok(main.includes(name), `@carto/auth exports ${name}`);
  }
  assert.ok(cli.includes("main"));
  assert.ok(testing.includes("startFakeCarto"));
});

test("the types resolve for a TypeScript user on Node's module resolution", async () => {
  await writeFile(
    join(project, "use.ts"),
    `import { CartoAuth, CredentialsError, type TokenStore } from "@carto/auth";
import { main } from "@carto/auth/cli";
import { startFakeCarto } from "@carto/auth/testing";
const fake = await startFakeCarto();
const auth: CartoAuth = await CartoAuth.fromM2M(fake.credentials, { endpoints: fake.endpoints });
const token: string = await auth.getAccessToken();
const code: number = await main(["status"]);
const store: TokenStore | undefined = undefined;
const e: Error = new CredentialsError("x");
// @ts-expect-error: the mode is checked
new CartoAuth({ mode: "password" });
console.log(token, code, store, e);
`,
  );
  // deno-fmt-ignore
  const r = await run(
    [join(ROOT, "node_modules/.bin/tsc"), "--noEmit", "--strict",
      "--module", "nodenext", "--target", "es2023", "--types", "node",
      "--typeRoots", join(ROOT, "node_modules/@types"), "use.ts"],
    { PATH: process.env.PATH ?? "" },
    project,
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test("carto-auth --help, --version and status run on Node", async () => {
  const help = await run(["carto-auth", "--help"], nodeEnv, project);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage\n {2}carto-auth <command>/m);
  const version = await run(["carto-auth", "--version"], nodeEnv, project);
  assert.equal(version.code, 0, version.stderr);
  assert.equal(
    version.stdout,
    `carto-auth ${repo.version} (node ${
      (await run(["node", "--version"], nodeEnv, project)).stdout.trim()
        .slice(1)
    })\n`,
  );
  assert.equal(version.stderr, "");
  const status = await run(["carto-auth", "status"], nodeEnv, project);
  assert.equal(status.code, 1, "no login yet");
  assert.match(
    status.stdout + status.stderr,
    /Not logged in\. Run: carto-auth login --m2m/,
  );
});

/** A fake CARTO from the package's `@carto/auth/testing`, in a Node process. */
async function startPackagedFake() {
  const [file, ...args] = exactEnv(nodeEnv, [
    "node",
    "--input-type=module",
    "-e",
    `import { startFakeCarto } from "@carto/auth/testing";
     const fake = await startFakeCarto();
     console.log(JSON.stringify({ endpoints: fake.endpoints, ...fake.credentials }));
     process.stdin.resume();
     process.stdin.on("end", async () => {
       console.log(JSON.stringify({ tokenRequests: fake.count("token") }));
       await fake.close();
     });`,
  ]);
  const child = spawn(which(file), args, { cwd: project, env: nodeEnv });
  child.stdout.setEncoding("utf8");
  const lines: string[] = [];
  let waiting: (() => void) | undefined;
  let rest = "";
  child.stdout.on("data", (chunk: string) => {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop()!;
    lines.push(...parts);
    waiting?.();
  });
  child.on("exit", () => waiting?.());
  /** The next line the fake prints, as JSON. */
  const next = async () => {
    while (lines.length === 0) {
      if (child.exitCode !== null) throw new Error("the fake CARTO exited");
      await new Promise<void>((resolve) => waiting = resolve);
    }
    return JSON.parse(lines.shift()!);
  };
  return { child, next, ...(await next()) };
}

test("an M2M login, its token and a query through the CLI, against the package's fake CARTO", async () => {
  const fake = await startPackagedFake();
  try {
    const env = {
      ...nodeEnv,
      CARTO_AUTH_URL: fake.endpoints.auth,
      CARTO_ACCOUNTS_URL: fake.endpoints.accounts,
      CARTO_BIGQUERY_URL: fake.endpoints.bigquery,
      CARTO_CLIENT_ID: fake.clientId,
      CARTO_CLIENT_SECRET: fake.clientSecret,
      CARTO_API_BASE_URL: fake.apiBaseUrl,
    };
    const cli = async (...args: string[]) => {
      const r = await run(["carto-auth", ...args], env, project);
      assertNoSecrets(r.stderr, `stderr of carto-auth ${args.join(" ")}`);
      return r;
    };
    const login = await cli("login", "--m2m");
    assert.equal(login.code, 0, login.stderr);
    const status = await cli("status");
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /M2M login \(machine\)[^\n]*\n\s+✓/);
    const token = await cli("token", "--m2m");
    assert.equal(token.code, 0, token.stderr);
    assert.match(token.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]*\n$/);
    const query = await cli("dw", "query", "SELECT 1 AS n", "--m2m", "--json");
    assert.equal(query.code, 0, query.stderr);
    assert.deepEqual(JSON.parse(query.stdout), [{ n: 1 }]);
    fake.child.stdin.end();
    assert.deepEqual(await fake.next(), { tokenRequests: 1 });
  } finally {
    fake.child.kill();
  }
});

test("the library end to end under Node: M2M, a DW query, and a loopback OAuth login", async () => {
  const r = await node(`
    import { CartoAuth, MemoryTokenStore } from "@carto/auth";
    import { startFakeCarto } from "@carto/auth/testing";
    const fake = await startFakeCarto();
    try {
      const m2m = await CartoAuth.fromM2M(fake.credentials, {
        endpoints: fake.endpoints,
        store: new MemoryTokenStore(),
      });
      const { rows } = await (await m2m.getCartoDwClient()).query(
        "SELECT @n AS n", { params: { n: 7 } });
      const person = await CartoAuth.fromOAuth({
        endpoints: fake.endpoints,
        openBrowser: fake.browser,
        redirectPort: 0,
        useCache: false,
        log: () => {},
      });
      console.log(JSON.stringify({
        rows,
        m2mToken: fake.isValidToken(await m2m.getAccessToken()),
        personToken: fake.isValidToken(await person.getAccessToken()),
        apiBaseUrl: person.getApiBaseUrl() === fake.apiBaseUrl,
      }));
    } finally {
      await fake.close();
    }
  `);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    rows: [{ n: 7 }],
    m2mToken: true,
    personToken: true,
    apiBaseUrl: true,
  });
});
