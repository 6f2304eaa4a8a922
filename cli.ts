#!/usr/bin/env bun
/**
 * The `carto-auth` command line: `login`, `logout`, `status`, `token`,
 * `dw credentials`, `dw query`, `sql`. Run `carto-auth --help` for the
 * commands, and `carto-auth <command> --help` for each one's flags.
 *
 * @example
 * ```sh
 * deno run -A jsr:@carto/auth/cli login
 * deno run -A jsr:@carto/auth/cli dw query "SELECT 1 AS n"
 * curl -H "Authorization: Bearer $(deno run -A jsr:@carto/auth/cli token)" …
 * ```
 *
 * @module
 */
import { fastToken } from "./src/cli/fast_token.ts";

async function run(args: string[]): Promise<number> {
  // `token` on a cache hit needs none of the rest; it is loaded on demand.
  if (await fastToken(args)) return 0;
  const { main } = await import("./src/cli/main.ts");
  return await main(args);
}

/**
 * Runs `carto-auth` with `args` (the words after the program name) and
 * resolves with the exit code: 0 ok, 1 failure, 2 usage error, 4
 * authentication needed, 130 interrupted.
 *
 * @example
 * ```ts ignore
 * import { main } from "@carto/auth/cli";
 * const code = await main(["status", "--json"]);
 * ```
 */
export function main(args: string[]): Promise<number> {
  return run(args);
}

interface Proc {
  argv: string[];
  exit(code: number): never;
  getBuiltinModule?(id: string): unknown;
}

// Deno's `process` is set up on first touch, which costs ~20 ms: in Deno the
// program's arguments and exit come from `Deno` itself.
const deno = (globalThis as {
  Deno?: { args: string[]; exit(code: number): never };
}).Deno;
const proc = () => (globalThis as unknown as { process: Proc }).process;

/** Whether this module is the program (`import.meta.main`, or argv[1] on Node < 24). */
function isProgram(): boolean {
  const meta = import.meta as ImportMeta & { main?: boolean };
  if (typeof meta.main === "boolean") return meta.main;
  const fs = proc().getBuiltinModule?.("node:fs") as
    | typeof import("node:fs")
    | undefined;
  const script = proc().argv[1];
  if (!fs || !script || !import.meta.url.startsWith("file:")) return false;
  try {
    return fs.realpathSync(script) ===
      fs.realpathSync(new URL(import.meta.url));
  } catch {
    return false;
  }
}

if (isProgram()) {
  const code = await run(deno ? deno.args : proc().argv.slice(2));
  // Exit at once: a stdin that was read from (the pasted code) would keep the
  // process alive. Every write has been flushed by then.
  if (deno) deno.exit(code);
  proc().exit(code);
}
