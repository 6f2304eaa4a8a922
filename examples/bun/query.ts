#!/usr/bin/env bun
/**
 * Runs a query on the CARTO Data Warehouse with M2M credentials and prints
 * the rows as JSON, one per line.
 *
 *   bun examples/bun/query.ts "SELECT 1 AS n"
 *
 * Credentials: `CARTO_CREDENTIALS` names a credentials file (the Python
 * package's format: api_base_url, client_id, client_secret), else
 * `CARTO_API_BASE_URL`, `CARTO_CLIENT_ID` and `CARTO_CLIENT_SECRET`. The token
 * is cached in `~/.carto-auth/token_m2m.json`, shared with the Python package,
 * so the next run makes no token request; as for the CLI,
 * `CARTO_AUTH_CACHE_DIR` names another folder. `CARTO_AUTH_URL`,
 * `CARTO_ACCOUNTS_URL` and `CARTO_BIGQUERY_URL` point it at other services
 * (a fake CARTO: see README.md).
 */
import { join } from "node:path";
// In your own script: from "@carto/auth".
import {
  CartoAuth,
  CredentialsError,
  type Endpoints,
  type M2MCredentials,
} from "../../mod.ts";

const env = process.env;
const sql = process.argv[2] ?? "SELECT 1 AS n";

const endpoints: Partial<Endpoints> = {};
if (env.CARTO_AUTH_URL) endpoints.auth = env.CARTO_AUTH_URL;
if (env.CARTO_ACCOUNTS_URL) endpoints.accounts = env.CARTO_ACCOUNTS_URL;
if (env.CARTO_BIGQUERY_URL) endpoints.bigquery = env.CARTO_BIGQUERY_URL;

try {
  const credentials: string | M2MCredentials = env.CARTO_CREDENTIALS ?? {
    apiBaseUrl: env.CARTO_API_BASE_URL ?? "",
    clientId: env.CARTO_CLIENT_ID ?? "",
    clientSecret: env.CARTO_CLIENT_SECRET ?? "",
  };
  const cacheDir = env.CARTO_AUTH_CACHE_DIR;
  const auth = await CartoAuth.fromM2M(credentials, {
    endpoints,
    cacheFilepath: cacheDir && join(cacheDir, "token_m2m.json"),
  });
  const dw = await auth.getCartoDwClient();
  const { rows } = await dw.query(sql);
  for (const row of rows) console.log(JSON.stringify(row));
} catch (e) {
  if (!(e instanceof CredentialsError)) throw e;
  console.error(`error: ${e.message}`);
  process.exit(1);
}
