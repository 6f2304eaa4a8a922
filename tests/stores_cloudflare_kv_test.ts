/**
 * CloudflareKVTokenStore over an in-memory namespace with KV's rules
 * (`FakeKVNamespace`): keys, KV expirations and the 60 s minimum, stale
 * tokens vanishing, values that are not tokens, and a failing binding. The
 * workerd run (`worker_workerd_kv.ts`) checks the same writes against the real KV.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CartoAuth,
  type CloudflareKVNamespace,
  CloudflareKVTokenStore,
} from "../mod.ts";
import { startFakeCarto } from "../src/testing/mod.ts";
import { FakeKVNamespace } from "./fake_kv_namespace.ts";
import { fullToken, NOT_TOKENS } from "./stores_contract.ts";

const now = () => Math.floor(Date.now() / 1000);

test("CloudflareKVTokenStore keeps the token under carto-auth:<key>, or under its prefix", async () => {
  const kv = new FakeKVNamespace();
  const plain = new CloudflareKVTokenStore(kv);
  const other = new CloudflareKVTokenStore(kv, { prefix: "client-b/" });
  assert.equal(plain.keyFor("m2m"), "carto-auth:m2m");
  const a = fullToken({ accessToken: "a" });
  const b = fullToken({ accessToken: "b" });
  await plain.set("m2m", a);
  await other.set("m2m", b);
  assert.deepEqual((await kv.list()).keys.map((k) => k.name), [
    "carto-auth:m2m",
    "client-b/m2m",
  ]);
  assert.deepEqual(await plain.get("m2m"), a);
  assert.deepEqual(await other.get("m2m"), b);
  assert.deepEqual(JSON.parse((await kv.get("carto-auth:m2m"))!), a);
  await other.delete("m2m");
  assert.deepEqual(await plain.get("m2m"), a);
});

test("a token is written with its expiry as KV expiration, or a TTL no shorter than KV's 60 s", async () => {
  const kv = new FakeKVNamespace();
  const store = new CloudflareKVTokenStore(kv);
  const t = now();
  await store.set("hour", fullToken({ expiration: t + 3600 }));
  await store.set("fractional", fullToken({ expiration: t + 3600.4 }));
  await store.set("75s", fullToken({ expiration: t + 75 }));
  await store.set("10s", fullToken({ expiration: t + 10 }));
  await store.set("past", fullToken({ expiration: t - 600 }));
  await store.set("never", fullToken({ expiration: Infinity }));
  const options = Object.fromEntries(kv.puts.map((p) => [p.key, p.options]));
  assert.deepEqual(options["carto-auth:hour"], { expiration: t + 3600 });
  assert.deepEqual(options["carto-auth:fractional"], { expiration: t + 3601 });
  const ttl75 = options["carto-auth:75s"]?.expirationTtl ?? 0;
  assert.ok(ttl75 >= 74 && ttl75 <= 76, `TTL ${ttl75}`);
  assert.deepEqual(options["carto-auth:10s"], { expirationTtl: 60 });
  assert.deepEqual(options["carto-auth:past"], { expirationTtl: 60 });
  assert.equal(options["carto-auth:never"], undefined);
});

test("stale tokens vanish from KV by themselves", async () => {
  const kv = new FakeKVNamespace();
  const store = new CloudflareKVTokenStore(kv);
  const hour = fullToken({ expiration: now() + 3600 });
  await store.set("m2m", hour);
  await store.set("oauth", fullToken({ expiration: now() - 10 }));
  kv.clock += 59;
  assert.deepEqual(await store.get("m2m"), hour);
  assert.ok(await store.get("oauth"), "kept for KV's minimum of 60 s");
  kv.clock += 2;
  assert.equal(await store.get("oauth"), undefined);
  kv.clock += 3600;
  assert.equal(await store.get("m2m"), undefined);
  assert.deepEqual((await kv.list()).keys, []);
});

test("a KV value that is not a token reads as undefined", async () => {
  const kv = new FakeKVNamespace();
  const store = new CloudflareKVTokenStore(kv);
  for (
    const value of [
      "not json",
      ...NOT_TOKENS.map((v) => JSON.stringify(v)),
    ]
  ) {
    await kv.put("carto-auth:m2m", value);
    assert.equal(await store.get("m2m"), undefined, value);
  }
});

test("errors of the binding are passed on; CartoAuth then obtains a token anyway and says the cache failed", async () => {
  const broken: CloudflareKVNamespace = {
    get: () => Promise.reject(new Error("KV GET failed: 503")),
    put: () => Promise.reject(new Error("KV PUT failed: 503")),
    delete: () => Promise.reject(new Error("KV DELETE failed: 503")),
  };
  const store = new CloudflareKVTokenStore(broken);
  await assert.rejects(store.get("m2m"), /KV GET failed/);
  await assert.rejects(store.set("m2m", fullToken()), /KV PUT failed/);
  await assert.rejects(store.delete("m2m"), /KV DELETE failed/);

  await using fake = await startFakeCarto();
  const logs: string[] = [];
  const auth = new CartoAuth({
    mode: "m2m",
    ...fake.credentials,
    endpoints: fake.endpoints,
    store,
    log: (m) => logs.push(m),
  });
  assert.ok(fake.isValidToken(await auth.getAccessToken()));
  assert.deepEqual(logs, [
    "carto-auth: the token works but could not be cached: KV PUT failed: 503",
  ]);
});
