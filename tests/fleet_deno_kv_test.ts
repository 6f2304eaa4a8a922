/**
 * A fleet of Deno processes sharing one token through a Deno KV file
 * (`Deno.openKv(path)`), each with its own handle. In Bun the test runs the
 * same members in Deno (they need Deno KV) but cannot read the file itself,
 * so the cases are skipped there.
 */
import { after } from "node:test";
import { DenoKVTokenStore } from "../mod.ts";
import { fleetContract } from "./fleet.ts";
import { denoKvFiles } from "./deno_kv_files.ts";

const denoKv = denoKvFiles();
after(() => denoKv.closeAll());

fleetContract({
  name: "DenoKVTokenStore fleet",
  unavailable: denoKv.unavailable,
  async open(lease) {
    const { kv, path } = await denoKv.open();
    return {
      config: { kind: "deno-kv", path, lease },
      store: new DenoKVTokenStore(kv, { lease }),
    };
  },
});
