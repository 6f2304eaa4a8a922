/**
 * Everything of `@carto/auth` that a worker uses (Cloudflare Workers, Deno
 * Deploy, any bundle for the edge), without what only a person's machine
 * uses: the login in a browser, the token files (`FileTokenStore`; tokens
 * stay in memory unless `CartoAuth` is given a `store`) and the YAML parser of API-base-URL discovery. Bundlers find no way from
 * here to them, whichever resolution rules they follow, even wrangler, which
 * inlines dynamic imports. Where one would be needed, `CartoAuth` throws a
 * `CredentialsError` saying what to pass instead (`apiBaseUrl`, a `store`).
 *
 * @example
 * ```ts
 * import { CartoAuth, CloudflareKVTokenStore } from "@carto/auth/worker";
 *
 * export default {
 *   async fetch(_request: Request, env: Record<string, string>): Promise<Response> {
 *     const auth = await CartoAuth.fromM2M({
 *       apiBaseUrl: env.CARTO_API_BASE_URL,
 *       clientId: env.CARTO_CLIENT_ID,
 *       clientSecret: env.CARTO_CLIENT_SECRET,
 *     });
 *     const dw = await auth.getCartoDwClient();
 *     return Response.json((await dw.query("SELECT 1 AS n")).rows);
 *   },
 * };
 * ```
 *
 * @module
 */
export {
  CartoAuth,
  type CartoAuthOptions,
  type CommonOptions,
  type M2MOptions,
  type Mode,
  type OAuthOptions,
  type SqlApiField,
  type SqlApiResult,
} from "./src/auth.ts";
export {
  CredentialsError,
  type CredentialsErrorCode,
  type CredentialsErrorOptions,
} from "./src/errors.ts";
export { DEFAULT_ENDPOINTS, type Endpoints } from "./src/endpoints.ts";
export type { M2MCredentials } from "./src/m2m.ts";
export type { OpenBrowser, Prompt } from "./src/oauth/login.ts";
export type { StoredToken, TokenStore } from "./src/stores/types.ts";
export { MemoryTokenStore } from "./src/stores/memory.ts";
export {
  type CloudflareKVNamespace,
  CloudflareKVTokenStore,
  type CloudflareKVTokenStoreOptions,
} from "./src/stores/cloudflare_kv.ts";
export {
  type DenoKv,
  type DenoKvAtomic,
  type DenoKvKeyPart,
  DenoKVTokenStore,
  type DenoKVTokenStoreOptions,
} from "./src/stores/deno_kv.ts";
export {
  type RedisSend,
  RedisTokenStore,
  type RedisTokenStoreOptions,
} from "./src/stores/redis.ts";
export type { LeaseOptions } from "./src/stores/lease.ts";
export {
  BigQueryError,
  type BigQueryErrorOptions,
  CartoDwClient,
  type CartoDwClientOptions,
  type DryRunResult,
  type DwCredentials,
  type ErrorProto,
  type Int64Mode,
  type JobCreationMode,
  type ParamType,
  type ParamTypes,
  type QueryMeta,
  type QueryOptions,
  type QueryParameter,
  type QueryParameterType,
  type QueryParameterValue,
  type QueryParams,
  type QueryPosition,
  type QueryProgress,
  type QueryResult,
  type QueryRowStream,
  type RangeValue,
  type RetryNotice,
  type RetryOptions,
  type Row,
  type TableFieldSchema,
} from "./src/dw/client.ts";
