import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Opens real Deno KV databases in temporary files, and closes them all at the
 * end. `unavailable` says why there are none (not Deno); in Deno without KV
 * (no `--unstable-kv`), `open` throws, so those cases fail instead of passing.
 */
export function denoKvFiles(): {
  unavailable?: string;
  open(path?: string): Promise<{ kv: Deno.Kv; path: string }>;
  closeAll(): void;
} {
  const deno = (globalThis as {
    Deno?: { openKv?: (path?: string) => Promise<Deno.Kv> };
  }).Deno;
  const opened: Deno.Kv[] = [];
  return {
    unavailable: deno ? undefined : "Deno KV exists only in Deno",
    async open(path) {
      if (!deno?.openKv) {
        throw new Error(
          "Deno.openKv is missing: Deno KV needs --unstable-kv (deno.json sets unstable: [kv]).",
        );
      }
      path ??= join(
        await mkdtemp(join(tmpdir(), "carto-auth-kv-")),
        "kv.sqlite3",
      );
      const kv = await deno.openKv(path);
      opened.push(kv);
      return { kv, path };
    },
    closeAll() {
      for (const kv of opened.splice(0)) kv.close();
    },
  };
}
