/**
 * A Deno Deploy app that queries the CARTO Data Warehouse with an M2M client
 * and shares the token between isolates through Deno KV.
 *
 *   POST /query   {"sql", "params"?}: JSON rows, `{"rows", "truncated"}`
 *
 * SQL comes only in a JSON POST body, which a page of another site cannot
 * send without a CORS preflight that this app never grants; each query has a
 * cap on bytes billed and on rows (as in the Cloudflare Worker example).
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
  type QueryParams,
} from "../../worker.ts";

/** What the app needs to log in. */
export interface Config {
  apiBaseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Overrides of the services' base URLs (tests, staging). */
  endpoints?: Partial<Endpoints>;
  /** Most bytes a query may bill, default 1 GB (`maximumBytesBilled`). */
  maxBytesBilled?: string;
  /** Most rows a query returns, default 10,000; the answer says `truncated`. */
  maxRows?: number;
}

/** The app's request handler, over an open Deno KV database. */
export function createHandler(
  kv: DenoKv,
  config: Config,
): (request: Request) => Promise<Response> {
  // One CartoAuth per isolate; Deno KV shares the token between isolates.
  const { maxBytesBilled = "1000000000", maxRows = 10_000, ...login } = config;
  const auth = new CartoAuth({
    mode: "m2m",
    ...login,
    store: new DenoKVTokenStore(kv),
  });
  let dw: Promise<CartoDwClient> | undefined;
  const run = async (sql: string, params?: QueryParams) => {
    dw ??= auth.getCartoDwClient().catch((e) => {
      dw = undefined; // try again on the next request
      throw e;
    });
    const found = (await dw).queryRows(sql, {
      params,
      maximumBytesBilled: maxBytesBilled,
      maxResults: Math.min(maxRows, 10_000),
    });
    const { totalRows } = await found.meta();
    const rows: unknown[] = [];
    for await (const row of found) {
      if (rows.length === maxRows) break; // stops reading pages
      rows.push(row);
    }
    return { rows, truncated: rows.length < totalRows };
  };
  return async (request) => {
    const url = new URL(request.url);
    if (url.pathname !== "/query") {
      return error(404, 'Try POST /query with {"sql": "…"}.');
    }
    if (request.method !== "POST") {
      return error(405, "SQL is taken only from a POST with a JSON body.");
    }
    if (request.headers.get("sec-fetch-site") === "cross-site") {
      return error(403, "Requests from other sites are refused.");
    }
    const type = request.headers.get("content-type") ?? "";
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      return error(415, "Send the body as application/json.");
    }
    const body = await request.json().catch(() => undefined);
    if (typeof body?.sql !== "string" || !body.sql) {
      return error(400, 'The body is not {"sql": "…", "params"?: {…}}.');
    }
    try {
      return Response.json(await run(body.sql, body.params));
    } catch (e) {
      if (!(e instanceof CredentialsError)) throw e;
      // A query BigQuery refused, or a parameter it would, is the caller's
      // (4xx); anything else is upstream's.
      const status = e.code === "invalid_input" && !e.status
        ? 400
        : e.status && e.status < 500 && e.status !== 401 && e.status !== 403
        ? e.status
        : 502;
      return error(status, e.message);
    }
  };
}

function error(status: number, message: string): Response {
  return Response.json({ error: message }, { status });
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
  const maxRows = env("MAX_ROWS");
  return {
    apiBaseUrl: env("CARTO_API_BASE_URL")!,
    clientId: env("CARTO_CLIENT_ID")!,
    clientSecret: env("CARTO_CLIENT_SECRET")!,
    endpoints,
    maxBytesBilled: env("MAX_BYTES_BILLED"),
    maxRows: maxRows ? Number(maxRows) : undefined,
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
