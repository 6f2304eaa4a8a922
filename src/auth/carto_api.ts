/**
 * Calls of the CARTO API made on the library's behalf: the SQL API and the
 * CARTO Data Warehouse credentials.
 */
import type { DwCredentials } from "../dw/client.ts";
import { CredentialsError } from "../errors.ts";
import { type HttpOptions, send } from "../http.ts";
import { readJson } from "../http_answers.ts";
import { authorizedFetch, type TokenSource } from "./transport.ts";

/** A column of a CARTO SQL API result. */
export interface SqlApiField {
  /** Column name. */
  name: string;
  /** Column type as the connection names it (e.g. `int64`, `string`). */
  type: string;
}

/** What {@linkcode CartoAuth.querySql} returns. */
export interface SqlApiResult {
  /** One object per row, as JSON values. */
  rows: Record<string, unknown>[];
  /** The columns, in order. */
  schema: SqlApiField[];
  /** What the API says about the query (bytes processed, cache hit, …). */
  meta: Record<string, unknown>;
}

/** URLs longer than this go as POST (proxies and servers cap URL length). */
const MAX_GET_URL = 2000;
const SQL_MAX_BYTES = 64 * 1024 * 1024;

/** Runs `sql` on `connection` through the SQL API: GET when short, POST when long. */
export async function querySqlApi(
  source: TokenSource,
  apiBaseUrl: string,
  http: HttpOptions,
  connection: string,
  sql: string,
  signal?: AbortSignal,
): Promise<SqlApiResult> {
  const what = "CARTO SQL API";
  const path = `${apiBaseUrl}/v3/sql/${encodeURIComponent(connection)}/query`;
  const short = `${path}?q=${encodeURIComponent(sql)}`;
  const isGet = short.length <= MAX_GET_URL;
  const request = isGet
    ? new Request(short, { headers: { accept: "application/json" } })
    : new Request(path, {
      method: "POST",
      headers: {
        accept: "application/json",
        "content-type": "application/json",
      },
      body: JSON.stringify({ q: sql }),
    });
  const response = await authorizedFetch(
    source,
    request,
    (url, init) =>
      send(what, url, init, {
        ...http,
        maxBytes: SQL_MAX_BYTES,
        retries: isGet ? 2 : 0,
        signal,
      }),
  );
  const body = await readJson(response, what, "Log in again.");
  if (!Array.isArray(body.rows)) {
    throw new CredentialsError(
      `${what} (${path}) answered without rows. Check the connection name.`,
      { code: "bad_response", endpoint: path },
    );
  }
  return {
    rows: body.rows as Record<string, unknown>[],
    schema: Array.isArray(body.schema) ? body.schema as SqlApiField[] : [],
    meta: (body.meta ?? {}) as Record<string, unknown>,
  };
}

/** The CARTO Data Warehouse project and a Google token for it. */
export async function fetchDwCredentials(
  source: TokenSource,
  base: string,
  http: HttpOptions,
): Promise<DwCredentials> {
  const what = "CARTO DW token endpoint";
  const response = await authorizedFetch(
    source,
    new Request(`${base}/v3/connections/carto-dw/token`, {
      headers: { accept: "application/json" },
    }),
    (url, init) => send(what, url, init, http),
  );
  const body = await readJson(response, what, "Log in again.");
  for (const key of ["projectId", "token"] as const) {
    if (typeof body[key] !== "string" || !body[key]) {
      throw new CredentialsError(
        `Invalid attributes in CARTO DW token response: no ${key}. ` +
          `Make sure the API base URL (${base}) is right and the account has the CARTO Data Warehouse.`,
        { code: "bad_response" },
      );
    }
  }
  return { projectId: body.projectId as string, token: body.token as string };
}
