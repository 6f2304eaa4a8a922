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
 * Workers import `@carto/auth/worker`: the same without the YAML parser that
 * only interactive logins need.
 *
 * @module
 */
// Interactive logins find the API base URL in the tenant's config.yaml.
import "./src/yaml/provide.ts";

export * from "./worker.ts";
