/**
 * DW credentials kept in the token store under `<mode>_dw`: shared by the
 * CartoAuth instances of one process, renewed by their stored expiry, kept
 * in the token files, forgotten on logout. The fleet cases (processes,
 * isolates) are in `fleet_*_test.ts` and `isolates_contract.ts`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CartoAuth, FileTokenStore, MemoryTokenStore } from "../mod.ts";
import { startFakeCarto } from "../src/testing/mod.ts";
import { QUICK } from "./dw_fixture.ts";

const now = () => Date.now() / 1000;

test("CartoAuth instances sharing a store without a lock make one DW token request between them", async () => {
  await using fake = await startFakeCarto();
  const store = new MemoryTokenStore();
  const auths = [1, 2, 3].map(() =>
    new CartoAuth({
      mode: "m2m",
      ...fake.credentials,
      endpoints: fake.endpoints,
      store,
    })
  );
  const all = await Promise.all(
    auths.flatMap((auth) =>
      Array.from({ length: 20 }, () => auth.getCartoDwCredentials())
    ),
  );
  assert.equal(new Set(all.map(([, token]) => token)).size, 1);
  assert.equal(fake.count("dwToken"), 1);
  const entry = await store.get("m2m_dw");
  assert.equal(entry?.projectId, fake.dwProjectId);
  assert.equal(entry?.clientId, `${fake.credentials.clientId}@clients`);
  assert.ok(
    Math.abs(entry!.expiration - (now() + 50 * 60)) < 5,
    "used for 50 minutes after it was fetched",
  );
});

test("stored DW credentials past their time are fetched again; a DW client renews at the stored expiry", async () => {
  await using fake = await startFakeCarto();
  const store = new MemoryTokenStore();
  const auth = new CartoAuth({
    mode: "m2m",
    ...fake.credentials,
    endpoints: fake.endpoints,
    store,
  });
  const [, first] = await auth.getCartoDwCredentials();
  const entry = (await store.get("m2m_dw"))!;
  // As if another process had fetched it 49 minutes and 59 seconds ago.
  await store.set("m2m_dw", { ...entry, expiration: now() + 1 });
  const other = new CartoAuth({
    mode: "m2m",
    ...fake.credentials,
    endpoints: fake.endpoints,
    store,
  });
  const dw = await other.getCartoDwClient(QUICK);
  assert.deepEqual((await dw.query("SELECT 1 AS n")).rows, [{ n: 1 }]);
  assert.equal(fake.count("dwToken"), 1, "the stored one, while it lasts");
  await new Promise((r) => setTimeout(r, 1100));
  assert.deepEqual((await dw.query("SELECT 2 AS n")).rows, [{ n: 2 }]);
  assert.equal(fake.count("dwToken"), 2, "renewed at the stored expiry");
  const [, renewed] = await other.getCartoDwCredentials();
  assert.notEqual(renewed, first);
  assert.equal((await store.get("m2m_dw"))?.accessToken, renewed);
  const bigquery = fake.requests.filter((r) => r.route === "bigquery");
  assert.equal(bigquery.length, 2, "no query was refused first");
});

test("the token files keep DW credentials (project_id) in token_<mode>_dw.json, 0600; logout removes them", async () => {
  await using fake = await startFakeCarto();
  const dir = await mkdtemp(join(tmpdir(), "carto-auth-dw-"));
  const open = () =>
    new CartoAuth({
      mode: "m2m",
      ...fake.credentials,
      endpoints: fake.endpoints,
      store: new FileTokenStore({ dir, onWarning: () => {} }),
    });
  const [project, token] = await open().getCartoDwCredentials();
  const path = join(dir, "token_m2m_dw.json");
  const file = JSON.parse(await readFile(path, "utf8"));
  assert.equal(file.access_token, token);
  assert.equal(file.project_id, project);
  if (process.platform !== "win32") {
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  }
  const again = open();
  assert.deepEqual(await again.getCartoDwCredentials(), [project, token]);
  assert.equal(fake.count("dwToken"), 1, "a new process reads the file");
  await again.logout();
  await assert.rejects(stat(path), { code: "ENOENT" });
});

test("with cacheFilepath, the DW credentials go beside the token file, which keeps the CARTO token", async () => {
  await using fake = await startFakeCarto();
  const dir = await mkdtemp(join(tmpdir(), "carto-auth-dw-"));
  const cacheFilepath = join(dir, "my_token.json");
  const auth = new CartoAuth({
    mode: "m2m",
    ...fake.credentials,
    endpoints: fake.endpoints,
    cacheFilepath,
  });
  const token = await auth.getAccessToken();
  const [, dwToken] = await auth.getCartoDwCredentials();
  const file = JSON.parse(await readFile(cacheFilepath, "utf8"));
  assert.equal(file.access_token, token);
  const beside = JSON.parse(
    await readFile(join(dir, "my_token_dw.json"), "utf8"),
  );
  assert.equal(beside.access_token, dwToken);
  const again = new CartoAuth({
    mode: "m2m",
    ...fake.credentials,
    endpoints: fake.endpoints,
    cacheFilepath,
  });
  assert.equal(await again.getAccessToken(), token);
  assert.equal((await again.getCartoDwCredentials())[1], dwToken);
  assert.equal(fake.count("token"), 1);
  assert.equal(fake.count("dwToken"), 1);
});
