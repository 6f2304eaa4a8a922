/**
 * A fake CARTO on 127.0.0.1 (the one of `@carto/auth/testing`), for running
 * the examples on this machine alone, and the variables that point them at
 * it: `CARTO_API_BASE_URL`, `CARTO_CLIENT_ID`, `CARTO_CLIENT_SECRET`, the
 * service overrides `CARTO_AUTH_URL`, `CARTO_ACCOUNTS_URL`,
 * `CARTO_BIGQUERY_URL`, and `CARTO_AUTH_CACHE_DIR` (a fresh folder, so the
 * fake's tokens never land in your `~/.carto-auth`).
 *
 *   npx deno run -A examples/fake_carto.ts             prints them as `export` lines, serves until Ctrl-C
 *   npx deno run -A examples/fake_carto.ts CMD ARG…    runs CMD with them set; stops with it
 *
 * (`bun examples/fake_carto.ts …` does the same.)
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
// In your own tests: from "@carto/auth/testing".
import { startFakeCarto } from "../src/testing/mod.ts";

const fake = await startFakeCarto();
const cacheDir = await mkdtemp(join(tmpdir(), "carto-auth-fake-"));
const stop = async () => {
  await fake.close();
  await rm(cacheDir, { recursive: true, force: true });
};
const variables: Record<string, string> = {
  CARTO_API_BASE_URL: fake.apiBaseUrl,
  CARTO_CLIENT_ID: fake.credentials.clientId,
  CARTO_CLIENT_SECRET: fake.credentials.clientSecret,
  CARTO_AUTH_URL: fake.endpoints.auth,
  CARTO_ACCOUNTS_URL: fake.endpoints.accounts,
  CARTO_BIGQUERY_URL: fake.endpoints.bigquery,
  CARTO_AUTH_CACHE_DIR: cacheDir,
};

const [command, ...args] = process.argv.slice(2);
const signals = ["SIGINT", "SIGTERM"] as const;
if (!command) {
  for (const [name, value] of Object.entries(variables)) {
    console.log(`export ${name}=${value}`);
  }
  console.error(`A fake CARTO is serving on ${fake.url}; Ctrl-C stops it.`);
  for (const signal of signals) {
    process.once(signal, () => stop().then(() => process.exit(0)));
  }
} else {
  const child = spawn(command, args, {
    stdio: "inherit",
    env: { ...process.env, ...variables },
  });
  // Ctrl-C reaches the command (same process group); a kill of this process
  // is passed on to it.
  for (const signal of signals) process.on(signal, () => child.kill(signal));
  child.on("error", async (e) => {
    console.error(`Could not run ${command}: ${e.message}`);
    await stop();
    process.exit(127);
  });
  child.on("exit", async (code, signal) => {
    await stop();
    process.exit(code ?? 128 + (signal ? constants.signals[signal] : 0));
  });
}
