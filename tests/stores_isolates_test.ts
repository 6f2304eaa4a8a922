/**
 * CartoAuth instances standing for isolates (or processes) that share one
 * M2M token through a store: Cloudflare KV (in-memory namespace with KV's
 * rules), Deno KV (a real database file, in Deno only) and the token files.
 */
import { after } from "node:test";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CloudflareKVTokenStore,
  DenoKVTokenStore,
  FileTokenStore,
} from "../mod.ts";
import { denoKvFiles } from "./deno_kv_files.ts";
import { FakeKVNamespace } from "./fake_kv_namespace.ts";
import { isolatesContract } from "./isolates_contract.ts";

isolatesContract({
  name: "CloudflareKVTokenStore",
  open() {
    const kv = new FakeKVNamespace();
    return Promise.resolve(() => new CloudflareKVTokenStore(kv));
  },
});

const denoKv = denoKvFiles();
after(() => denoKv.closeAll());
isolatesContract({
  name: "DenoKVTokenStore",
  unavailable: denoKv.unavailable,
  async open() {
    const { path } = await denoKv.open();
    // Each isolate opens the database itself, as each Deno Deploy isolate does.
    return async () => new DenoKVTokenStore((await denoKv.open(path)).kv);
  },
});

isolatesContract({
  name: "FileTokenStore",
  async open() {
    const dir = await mkdtemp(join(tmpdir(), "carto-auth-isolates-"));
    return () => new FileTokenStore({ dir, onWarning: () => {} });
  },
});
