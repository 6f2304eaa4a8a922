/**
 * The Bun example (`examples/bun/query.ts`) run end to end by the bun binary
 * against the fake CARTO, from both the Deno and the Bun suite.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeCarto } from "../src/testing/mod.ts";

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

test("Bun example: an M2M query end to end, and the next run uses the cached token", async () => {
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
