/**
 * A Deno Deploy app that queries the CARTO Data Warehouse with an M2M client
 * and shares the token between isolates through Deno KV.
 *
 *   GET /query?sql=…    JSON rows
 *
 * Configuration, from environment variables: `CARTO_API_BASE_URL`,
 * `CARTO_CLIENT_ID`, `CARTO_CLIENT_SECRET`, and for tests and staging
 * `CARTO_AUTH_URL`, `CARTO_ACCOUNTS_URL`, `CARTO_BIGQUERY_URL`.
 * `deno serve -A --unstable-kv examples/deno-deploy/main.ts` runs it (KV in a
 * local file; `KV_PATH` picks another); README.md has the rest.
 */
// In your own app: from "@carto/auth/worker" (no browser login, token files or YAML parser: the app needs none).
import {
  CartoAuth,
  type CartoDwClient,
  CredentialsError,
  type DenoKv,
  DenoKVTokenStore,
  type Endpoints,
} from "../../worker.ts";

/** What the app needs to log in. */
export interface Config {
  apiBaseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Overrides of the services' base URLs (tests, staging). */
  endpoints?: Partial<Endpoints>;
}

/** The app's request handler, over an open Deno KV database. */
export function createHandler(
  kv: DenoKv,
  config: Config,
): (request: Request) => Promise<Response> {
  // One CartoAuth per isolate; Deno KV shares the token between isolates.
  const auth = new CartoAuth({
    mode: "m2m",
    ...config,
    store: new DenoKVTokenStore(kv),
  });
  let dw: Promise<CartoDwClient> | undefined;
  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname !== "/query") {
      return Response.json({ error: "Try /query?sql=…" }, { status: 404 });
    }
    const sql = url.searchParams.get("sql");
    if (!sql) {
      return Response.json({ error: "Pass the query as ?sql=…" }, {
        status: 400,
      });
    }
    try {
      dw ??= auth.getCartoDwClient().catch((e) => {
        dw = undefined; // try again on the next request
        throw e;
      });
      const { rows } = await (await dw).query(sql);
      return Response.json({ rows });
    } catch (e) {
      if (!(e instanceof CredentialsError)) throw e;
      // A query BigQuery refused is the caller's (4xx); anything else is upstream's.
      const status = e.status && e.status < 500 && e.status !== 401 &&
          e.status !== 403
        ? e.status
        : 502;
      return Response.json({ error: e.message }, { status });
    }
  };
}

const REQUIRED = [
  "CARTO_API_BASE_URL",
  "CARTO_CLIENT_ID",
  "CARTO_CLIENT_SECRET",
] as const;

/** The app's configuration from `env`, or the names of the variables it lacks. */
export function configFrom(
  env: (name: string) => string | undefined,
): Config | { missing: string[] } {
  const missing = REQUIRED.filter((name) => !env(name));
  if (missing.length) return { missing };
  const endpoints: Partial<Endpoints> = {};
  if (env("CARTO_AUTH_URL")) endpoints.auth = env("CARTO_AUTH_URL");
  if (env("CARTO_ACCOUNTS_URL")) endpoints.accounts = env("CARTO_ACCOUNTS_URL");
  if (env("CARTO_BIGQUERY_URL")) endpoints.bigquery = env("CARTO_BIGQUERY_URL");
  return {
    apiBaseUrl: env("CARTO_API_BASE_URL")!,
    clientId: env("CARTO_CLIENT_ID")!,
    clientSecret: env("CARTO_CLIENT_SECRET")!,
    endpoints,
  };
}

let app: Promise<(request: Request) => Promise<Response>> | undefined;

/** For `deno serve` and Deno Deploy: the database opens on the first request. */
export default {
  async fetch(request: Request): Promise<Response> {
    const config = configFrom((name) => Deno.env.get(name));
    if ("missing" in config) {
      return Response.json({
        error: `The app is not configured: set ${
          config.missing.join(", ")
        } (environment variables; on Deno Deploy, in the project's settings).`,
      }, { status: 500 });
    }
    app ??= Deno.openKv(Deno.env.get("KV_PATH")).then((kv) =>
      createHandler(kv, config)
    );
    return (await app)(request);
  },
} satisfies Deno.ServeDefaultExport;
