/**
 * Log people and machines into CARTO and query the CARTO Data Warehouse, on
 * web standards: Deno, Bun, Node and edge workers.
 *
 * @example
 * ```ts
 * import { CartoAuth } from "@carto/auth";
 *
 * const auth = await CartoAuth.fromM2M("./carto_credentials.json");
 * const dw = await auth.getCartoDwClient();
 * const { rows } = await dw.query("SELECT @n AS n", { params: { n: 1 } });
 * ```
 *
 * Workers import `@carto/auth/worker`: the same without the login in a
 * browser, the token files as default store, and the YAML parser.
 *
 * @module
 */
// The YAML parser of discovery, the login in a browser, the token files.
import "./src/extras_full.ts";

export * from "./worker.ts";
export {
  FileTokenStore,
  type FileTokenStoreOptions,
} from "./src/stores/file.ts";
