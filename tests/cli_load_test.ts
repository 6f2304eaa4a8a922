/** `carto-auth token` run 200 times at once over one expired token file. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { parseTokenFile } from "../src/stores/file.ts";
import { assertNoSecrets, now, runCli, setup } from "./cli_helpers.ts";

test("200 parallel `token --m2m` over one expired cache file: 200 valid tokens, one valid file, one token request", async () => {
  await using s = await setup();
  const path = await s.writeToken("m2m", {
    accessToken: "expired-token",
    expiration: now() - 60,
    apiBaseUrl: s.fake.apiBaseUrl,
    clientId: s.fake.credentials.clientId,
  });
  const env = s.env(s.m2mEnv);
  const runs = await Promise.all(
    Array.from({ length: 200 }, () => runCli(["token", "--m2m"], env)),
  );
  const failed = runs.filter((r) => r.code !== 0);
  assert.deepEqual(failed.map((r) => r.stderr), [], "every run succeeded");
  const tokens = runs.map((r) => r.stdout.trim());
  for (const token of tokens) {
    assert.ok(s.fake.isValidToken(token), "a valid token");
  }
  for (const r of runs) assertNoSecrets(r.stderr, "stderr");
  const file = parseTokenFile(await readFile(path, "utf8"));
  assert.ok(
    file && s.fake.isValidToken(file.accessToken),
    "the file holds a valid token",
  );
  assert.ok(tokens.includes(file.accessToken));
  // The file lock lets one process renew; the others read its token.
  assert.equal(s.fake.count("token"), 1, "one token request for 200 processes");
  assert.equal(new Set(tokens).size, 1);
});
