/**
 * A fake CARTO for tests: Auth0 login (PKCE checked), accounts, tenant
 * configuration, the DW token, the SQL API and a BigQuery REST subset, on
 * 127.0.0.1.
 *
 * @example
 * ```ts
 * import { CartoAuth } from "@carto/auth";
 * import { startFakeCarto } from "@carto/auth/testing";
 *
 * await using fake = await startFakeCarto();
 * const auth = await CartoAuth.fromOAuth({
 *   endpoints: fake.endpoints,
 *   openBrowser: fake.browser,
 *   redirectPort: 0,
 *   useCache: false,
 * });
 * ```
 *
 * @module
 */
export type { Endpoints } from "../endpoints.ts";
export {
  type FakeCarto,
  type FakeCartoOptions,
  startFakeCarto,
} from "./fake_carto.ts";
export type { FakeFault, FakeRoute, RecordedRequest } from "./fake_requests.ts";
export { FAULT_KINDS, type FaultKind } from "./faults.ts";
export { type BrowserLanding, StandInBrowser } from "./stand_in_browser.ts";
export type {
  Evaluated,
  FakeBigQuery,
  FakeField,
  FakeJob,
  FakeQueryError,
  FakeResult,
  FakeResultOptions,
  QueryParameter,
  QueryParameterType,
  QueryParameterValue,
} from "./fake_bigquery_types.ts";
