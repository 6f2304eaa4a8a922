/**
 * CloudflareKVTokenStore over workerd's own KV (miniflare's
 * getKVNamespace): the token store contract, and the KV expiration of each
 * write. Run by the `integration` run of scripts/test.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CloudflareKVTokenStore } from "../mod.ts";
import { fullToken, tokenStoreContract } from "./stores_contract.ts";
import { tokensKV } from "./worker_miniflare.ts";
import { now, stoppedAfterTests } from "./worker_harness.ts";

const { worker, fakeCarto } = stoppedAfterTests();

// One worker holds the namespace; each contract case gets its own prefix in it.
const kvHost = (async () => {
  const mf = await worker(await fakeCarto(), {
    script: "export default { fetch: () => new Response('') };",
  });
  return await tokensKV(mf);
})();
let prefixes = 0;
tokenStoreContract({
  name: "CloudflareKVTokenStore (workerd KV)",
  // Each case gets its own prefix in the one namespace.
  open: async () =>
    new CloudflareKVTokenStore(await kvHost, { prefix: `case${++prefixes}:` }),
  peer: async (store) =>
    new CloudflareKVTokenStore(await kvHost, {
      prefix: (store as CloudflareKVTokenStore).keyFor(""),
    }),
});

test("workerd KV: a token is written with its expiry as KV expiration; one near or past expiry for KV's minimum of 60 s", async () => {
  const kv = await kvHost;
  await assert.rejects(
    kv.put("probe", "x", { expirationTtl: 30 }),
    /at least 60/,
    "workerd's KV itself refuses TTLs under 60 s",
  );
  const store = new CloudflareKVTokenStore(kv, { prefix: "ttl:" });
  const token = fullToken({ expiration: now() + 3600 });
  await store.set("m2m", token);
  const soon = fullToken({ expiration: now() + 10 });
  await store.set("oauth", soon);
  await store.set("past", fullToken({ expiration: now() - 600 }));
  const { keys } = await kv.list({ prefix: "ttl:" });
  const expirations = Object.fromEntries(
    keys.map((k) => [k.name, k.expiration]),
  );
  assert.equal(expirations["ttl:m2m"], token.expiration);
  for (const name of ["ttl:oauth", "ttl:past"]) {
    const at = expirations[name]!;
    assert.ok(at >= now() + 55 && at <= now() + 65, `${name} expires at ${at}`);
  }
  assert.deepEqual(await store.get("oauth"), soon);
});
