/** `carto-auth token` run 200 times at once over one expired token file. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatTokenFile, parseTokenFile } from "../src/stores/file.ts";
import { assertNoSecrets, cliEnv, now, runCli } from "./cli_helpers.ts";
import { startFakeCartoProcess } from "./fake_carto_process.ts";

test(
  "200 parallel `token --m2m` over one expired cache file: 200 valid tokens, one valid file, one token request",
  { timeout: 240_000 },
  async () => {
    // The fake runs in its own process: this one is busy with 200 children.
    await using fake = await startFakeCartoProcess();
    const dir = await mkdtemp(join(tmpdir(), "carto-auth-load-"));
    await using _ = {
      [Symbol.asyncDispose]: () => rm(dir, { recursive: true }),
    };
    const cacheDir = join(dir, ".carto-auth");
    await mkdir(cacheDir, { mode: 0o700 });
    const path = join(cacheDir, "token_m2m.json");
    const expired = {
      accessToken: "expired-token",
      expiration: now() - 60,
      apiBaseUrl: fake.apiBaseUrl,
      clientId: fake.credentials.clientId,
    };
    await writeFile(path, formatTokenFile(expired), { mode: 0o600 });
    const env = cliEnv(dir, fake, {
      CARTO_CLIENT_ID: fake.credentials.clientId,
      CARTO_CLIENT_SECRET: fake.credentials.clientSecret,
      CARTO_API_BASE_URL: fake.credentials.apiBaseUrl,
    });
    const runs = await Promise.all(
      // On a loaded machine 200 runtimes take long to start: beyond the
      // usual minute, but within the 2 minutes a renewal lock is waited for.
      Array.from(
        { length: 200 },
        () => runCli(["token", "--m2m"], env, "", 150_000),
      ),
    );
    const failed = runs.filter((r) => r.code !== 0);
    assert.deepEqual(failed.map((r) => r.stderr), [], "every run succeeded");
    const tokens = runs.map((r) => r.stdout.trim());
    assert.deepEqual(
      await fake.validTokens(tokens),
      tokens.map(() => true),
      "200 valid tokens",
    );
    for (const r of runs) assertNoSecrets(r.stderr, "stderr");
    const file = parseTokenFile(await readFile(path, "utf8"));
    assert.ok(file, "the file holds a token");
    assert.deepEqual(
      await fake.validTokens([file.accessToken]),
      [true],
      "the file's token is valid",
    );
    assert.ok(tokens.includes(file.accessToken));
    // The file lock lets one process renew; the others read its token.
    assert.equal(
      await fake.count("token"),
      1,
      "one token request for 200 processes",
    );
    assert.equal(new Set(tokens).size, 1);
  },
);
