/**
 * The examples, run the way their READMEs say: the "Run it on this machine"
 * command of each README (from the repository's root, through
 * `examples/fake_carto.ts`), then the README's request to the server it
 * starts, on a free port. And the Bun example's token cache and refusal,
 * with its own variables.
 *
 * Run once, by the `integration` run of `deno task test`; the name keeps it
 * out of the Deno and Bun runs (it drives other programs either way).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeCarto } from "../src/testing/mod.ts";
import { cliEnv, exactEnv } from "./cli_helpers.ts";

const root = new URL("..", import.meta.url).pathname;

function runExample(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      join(root, "node_modules/.bin/bun"),
      [join(root, "examples/bun/query.ts"), ...args],
      {
        cwd: root,
        env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...env },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test("Bun example, with its own variables: an M2M query end to end, and the next run uses the cached token", async () => {
  await using fake = await startFakeCarto();
  const home = await mkdtemp(join(tmpdir(), "carto-auth-bun-home-"));
  const credentials = join(home, "carto_credentials.json");
  await writeFile(
    credentials,
    JSON.stringify({
      api_base_url: fake.apiBaseUrl,
      client_id: fake.credentials.clientId,
      client_secret: fake.credentials.clientSecret,
    }),
    { mode: 0o600 },
  );
  const env = {
    HOME: home,
    CARTO_CREDENTIALS: credentials,
    CARTO_AUTH_URL: fake.endpoints.auth,
    CARTO_ACCOUNTS_URL: fake.endpoints.accounts,
    CARTO_BIGQUERY_URL: fake.endpoints.bigquery,
  };
  const first = await runExample(["SELECT 1 AS n, 'x' AS s"], env);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(first.stdout.trim().split("\n").map((l) => JSON.parse(l)), [
    { n: 1, s: "x" },
  ]);
  assert.equal(fake.count("token"), 1);
  const cached = JSON.parse(
    await readFile(join(home, ".carto-auth", "token_m2m.json"), "utf8"),
  );
  assert.ok(fake.isValidToken(cached.access_token));

  const second = await runExample(["SELECT 2 AS n"], env);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(JSON.parse(second.stdout), { n: 2 });
  assert.equal(fake.count("token"), 1, "the second run used the cached token");
});

test("Bun example: refused credentials exit 1 with the server's reason, never the secret", async () => {
  await using fake = await startFakeCarto();
  const home = await mkdtemp(join(tmpdir(), "carto-auth-bun-home-"));
  const secret = "not-the-secret-9876";
  const run = await runExample(["SELECT 1 AS n"], {
    HOME: home,
    CARTO_API_BASE_URL: fake.apiBaseUrl,
    CARTO_CLIENT_ID: fake.credentials.clientId,
    CARTO_CLIENT_SECRET: secret,
    CARTO_AUTH_URL: fake.endpoints.auth,
  });
  assert.equal(run.code, 1);
  assert.equal(run.stdout, "");
  assert.match(run.stderr, /^error: .*HTTP 401 access_denied/);
  assert.equal(run.stderr.includes(secret), false);
});

/** The line of `example`'s README that runs it against the fake CARTO, and the request its server answers. */
async function readme(example: string) {
  const text = await readFile(
    join(root, "examples", example, "README.md"),
    "utf8",
  );
  const command = /^(?:\w+=\S+ )*npx deno run -A examples\/fake_carto\.ts .+$/m
    .exec(text)?.[0];
  assert.ok(command, `examples/${example}/README.md has the command`);
  const curl = /^curl .+$/m.exec(text)?.[0];
  return { command, request: curl ? curlRequest(curl) : undefined };
}

/** The request of a README's `curl [-X M] 'URL' [-H 'h: v']… [-d 'body']` line. */
function curlRequest(line: string): { path: string; init: RequestInit } {
  const words = [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
  const init: RequestInit & { headers: Record<string, string> } = {
    headers: {},
  };
  let url = "";
  for (let i = 1; i < words.length; i++) {
    const word = words[i];
    if (word === "-X") init.method = words[++i];
    else if (word === "-H") {
      const [name, ...value] = words[++i].split(":");
      init.headers[name.trim()] = value.join(":").trim();
    } else if (word === "-d") init.body = words[++i];
    else url = word;
  }
  const { pathname, search } = new URL(url);
  return { path: pathname + search, init };
}

/** A TCP port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    }).on("error", reject);
  });
}

/**
 * Runs `command` (plus `extra` words) with `sh` in the repository's root, in
 * a clean environment (plus `env`), in a process group of its own.
 */
async function start(
  command: string,
  { extra = "", env = {} }: { extra?: string; env?: Record<string, string> } =
    {},
) {
  const home = await mkdtemp(join(tmpdir(), "carto-auth-example-home-"));
  const [file, ...args] = exactEnv(
    { ...cliEnv(home, undefined), ...env },
    ["sh", "-c", `${command} ${extra}`],
  );
  const child = spawn(file, args, { cwd: root, detached: true });
  let stdout = "", output = "";
  child.stdout.on("data", (c) => {
    stdout += c;
    output += c;
  });
  child.stderr.on("data", (c) => output += c);
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => resolve(code))
  );
  return {
    exited,
    stdout: () => stdout,
    /** stdout and stderr together, for failure messages. */
    output: () => output,
    /**
     * Ends the whole group (npx, deno, wrangler, workerd…): SIGTERM, and
     * SIGKILL for what is left after 3 s (wrangler dev can outlive a SIGTERM).
     */
    async stop() {
      const group = -child.pid!;
      const alive = () => {
        try {
          process.kill(group, 0);
          return true;
        } catch {
          return false;
        }
      };
      if (!alive()) return;
      process.kill(group, "SIGTERM");
      for (let i = 0; i < 30 && alive(); i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (alive()) process.kill(group, "SIGKILL");
      await exited;
    },
  };
}

/** Asks `url` until the server answers (it takes a while to start), for up to a minute. */
async function whenUp(
  url: string,
  server: { exited: Promise<unknown>; output(): string },
  init?: RequestInit,
): Promise<Response> {
  let gone = false;
  server.exited.then(() => gone = true);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await fetch(url, init);
    } catch {
      if (gone || Date.now() > deadline) {
        assert.fail(
          `${url} never answered${
            gone ? " (the command exited)" : ""
          }:\n${server.output()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

test("Bun example README: its command prints the rows of a query against the fake CARTO", async () => {
  const { command } = await readme("bun");
  const run = await start(command);
  assert.equal(await run.exited, 0, run.output());
  assert.deepEqual(JSON.parse(run.stdout()), { n: 1, s: "x" });
});

test("Deno Deploy example README: deno serve answers its request against the fake CARTO", async () => {
  const { command, request } = await readme("deno-deploy");
  assert.equal(request?.path, "/query");
  assert.equal(request.init.method, "POST");
  const port = await freePort();
  // (Not DENO_SERVE_ADDRESS: the fake CARTO, in Deno too, would take that address.)
  const server = await start(
    command.replace(
      " deno serve ",
      ` deno serve --host 127.0.0.1 --port ${port} `,
    ),
    { env: { KV_PATH: ":memory:" } },
  );
  try {
    const res = await whenUp(
      `http://127.0.0.1:${port}${request.path}`,
      server,
      request.init,
    );
    assert.equal(res.status, 200, server.output());
    assert.deepEqual(await res.json(), { rows: [{ n: 1 }], truncated: false });
  } finally {
    await server.stop();
  }
});

test("Deno Deploy example: without its variables it answers 500 naming them", async () => {
  const port = await freePort();
  const server = await start(
    `npx deno serve --host 127.0.0.1 --port ${port} -A --unstable-kv examples/deno-deploy/main.ts`,
    { env: { KV_PATH: ":memory:" } },
  );
  try {
    const res = await whenUp(
      `http://127.0.0.1:${port}/query`,
      server,
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: '{"sql": "SELECT 1"}',
      },
    );
    assert.equal(res.status, 500);
    assert.match(
      (await res.json()).error,
      /^The app is not configured: set CARTO_API_BASE_URL, CARTO_CLIENT_ID, CARTO_CLIENT_SECRET \(/,
    );
  } finally {
    await server.stop();
  }
});

test("Cloudflare Worker README: real wrangler dev answers its request against the fake CARTO", async () => {
  const { command, request } = await readme("cloudflare-worker");
  assert.equal(request?.path, "/query");
  assert.equal(request.init.method, "POST");
  const [port, inspector] = [await freePort(), await freePort()];
  const state = await mkdtemp(join(tmpdir(), "carto-auth-wrangler-state-"));
  const server = await start(command, {
    extra:
      `--ip 127.0.0.1 --port ${port} --inspector-port ${inspector} --persist-to ${state}`,
    env: { WRANGLER_SEND_METRICS: "false" },
  });
  try {
    const res = await whenUp(
      `http://127.0.0.1:${port}${request.path}`,
      server,
      request.init,
    );
    assert.equal(res.status, 200, server.output());
    assert.deepEqual((await res.json()).rows, [{ n: 1 }]);
  } finally {
    await server.stop();
  }
});
