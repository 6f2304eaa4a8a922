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
  FileTokenStore,
  type FileTokenStoreOptions,
} from "./src/stores/file.ts";
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
