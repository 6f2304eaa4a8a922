/**
 * A Deno Deploy app that queries the CARTO Data Warehouse with an M2M client
 * and shares the token between isolates through Deno KV.
 *
 *   GET /query?sql=…    JSON rows
 *
 * On Deno Deploy, set CARTO_API_BASE_URL, CARTO_CLIENT_ID and
 * CARTO_CLIENT_SECRET as environment variables; `Deno.openKv()` is the app's
 * database. Locally: `deno run -A --unstable-kv examples/deno-deploy/main.ts`
 * (KV in a local file; `KV_PATH` picks another).
 */
// In your own app: from "@carto/auth".
import {
  CartoAuth,
  type CartoDwClient,
  CredentialsError,
  type DenoKv,
  DenoKVTokenStore,
  type Endpoints,
} from "../../mod.ts";

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

if (import.meta.main) {
  const env = (name: string) => {
    const value = Deno.env.get(name);
    if (!value) throw new Error(`Set the environment variable ${name}.`);
    return value;
  };
  const kv = await Deno.openKv(Deno.env.get("KV_PATH"));
  Deno.serve(createHandler(kv, {
    apiBaseUrl: env("CARTO_API_BASE_URL"),
    clientId: env("CARTO_CLIENT_ID"),
    clientSecret: env("CARTO_CLIENT_SECRET"),
  }));
}
