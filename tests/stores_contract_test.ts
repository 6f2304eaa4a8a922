/**
 * The token store contract over every store this runtime has: Memory, File,
 * Cloudflare KV (over an in-memory namespace with KV's rules; the workerd
 * run repeats it over miniflare's real KV) and Deno KV (real, in Deno only).
 */
import { after } from "node:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CloudflareKVTokenStore,
  DenoKVTokenStore,
  FileTokenStore,
  MemoryTokenStore,
} from "../mod.ts";
import { denoKvFiles } from "./deno_kv_files.ts";
import { FakeKVNamespace } from "./fake_kv_namespace.ts";
import { tokenStoreContract } from "./stores_contract.ts";

tokenStoreContract({
  name: "MemoryTokenStore",
  open: () => new MemoryTokenStore(),
});

const dirs = new WeakMap<object, string>();
tokenStoreContract({
  name: "FileTokenStore",
  async open() {
    const dir = await mkdtemp(join(tmpdir(), "carto-auth-store-"));
    const store = new FileTokenStore({ dir, onWarning: () => {} });
    dirs.set(store, dir);
    return store;
  },
  peer: (store) =>
    new FileTokenStore({ dir: dirs.get(store)!, onWarning: () => {} }),
});

const namespaces = new WeakMap<object, FakeKVNamespace>();
tokenStoreContract({
  name: "CloudflareKVTokenStore (in-memory KV)",
  open() {
    const kv = new FakeKVNamespace();
    const store = new CloudflareKVTokenStore(kv);
    namespaces.set(store, kv);
    return store;
  },
  peer: (store) => new CloudflareKVTokenStore(namespaces.get(store)!),
});

const denoKv = denoKvFiles();
after(() => denoKv.closeAll());
const kvPaths = new WeakMap<object, string>();
const lease = { ttlMs: 800, waitMs: 2500 };
tokenStoreContract({
  name: "DenoKVTokenStore (Deno.openKv)",
  unavailable: denoKv.unavailable,
  async open() {
    const { kv, path } = await denoKv.open();
    const store = new DenoKVTokenStore(kv, { lease });
    kvPaths.set(store, path);
    return store;
  },
  peer: async (store) =>
    new DenoKVTokenStore((await denoKv.open(kvPaths.get(store))).kv, { lease }),
  lease: {
    ...lease,
    async abandon(store, key) {
      const { kv } = await denoKv.open(kvPaths.get(store));
      await kv.set([...(store as DenoKVTokenStore).keyFor(key), "lock"], {
        owner: "a-holder-that-died",
        until: Date.now() + lease.ttlMs,
      });
    },
  },
});
