/**
 * Cloudflare Durable Object coordination for `@carto/auth`: a Durable Object
 * class that keeps tokens and leases ({@linkcode TokenStoreDurableObject}),
 * and the store that uses it ({@linkcode DurableObjectTokenStore}). With it,
 * every isolate of a worker makes one token request per token lifetime
 * between them, instead of one each.
 *
 * A separate entry point, so that `@carto/auth` itself carries nothing that
 * only makes sense in a Worker.
 *
 * @example A worker
 * ```ts
 * import { CartoAuth } from "@carto/auth/worker";
 * import {
 *   type DurableObjectNamespaceLike,
 *   DurableObjectTokenStore,
 * } from "@carto/auth/cloudflare";
 * // Bound as TOKEN_STORE in wrangler.toml (see TokenStoreDurableObject).
 * export { TokenStoreDurableObject } from "@carto/auth/cloudflare";
 *
 * export default {
 *   async fetch(
 *     _request: Request,
 *     env: { TOKEN_STORE: DurableObjectNamespaceLike; CARTO_CLIENT_SECRET: string },
 *   ): Promise<Response> {
 *     const auth = new CartoAuth({
 *       mode: "m2m",
 *       apiBaseUrl: "https://gcp-us-east1.api.carto.com",
 *       clientId: "my-client-id",
 *       clientSecret: env.CARTO_CLIENT_SECRET,
 *       store: new DurableObjectTokenStore(env.TOKEN_STORE),
 *     });
 *     return await auth.fetch("/v3/sql/carto_dw/query?q=select%201");
 *   },
 * };
 * ```
 *
 * @module
 */
export {
  type DurableObjectNamespaceLike,
  type DurableObjectStateLike,
  DurableObjectTokenStore,
  type DurableObjectTokenStoreOptions,
  TokenStoreDurableObject,
} from "./src/stores/durable_object.ts";
export type { LeaseOptions } from "./src/stores/lease.ts";
export type { StoredToken, TokenStore } from "./src/stores/types.ts";
