import { DEFAULT_ENDPOINTS } from "../endpoints.ts";
import { CredentialsError } from "../errors.ts";
import { readJson, send } from "../http.ts";

/** The project and Google token of the CARTO Data Warehouse. */
export interface DwCredentials {
  projectId: string;
  token: string;
}

/** Options of {@linkcode CartoDwClient}. */
export interface CartoDwClientOptions {
  /** Fetches fresh DW credentials (on 401 and before the token expires). */
  credentials: () => Promise<DwCredentials>;
  /** Credentials already fetched, used until they need renewing. */
  initialCredentials?: DwCredentials;
  /** Transport, default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** BigQuery REST root, default `https://bigquery.googleapis.com/bigquery/v2`. */
  endpoint?: string;
}

/** Options of {@linkcode CartoDwClient.query}. */
export interface QueryOptions {
  /** Named (object) or positional (array) query parameters. */
  params?: Record<string, unknown> | unknown[];
}

/** A query's rows and metadata. */
export interface QueryResult<T = Record<string, unknown>> {
  rows: T[];
  schema: unknown[];
  totalRows: number;
  jobId?: string;
}

/**
 * A BigQuery client for the CARTO Data Warehouse on plain `fetch`.
 *
 * @example
 * ```ts ignore
 * const dw = await auth.getCartoDwClient();
 * const { rows } = await dw.query("SELECT 1 AS n");
 * ```
 */
export class CartoDwClient {
  readonly #options: CartoDwClientOptions;
  #credentials?: DwCredentials;

  /** A client over `options.credentials`. */
  constructor(options: CartoDwClientOptions) {
    this.#options = options;
    this.#credentials = options.initialCredentials;
  }

  /** The DW project id. */
  get project(): string | undefined {
    return this.#credentials?.projectId;
  }

  /** Runs `sql` and returns every row. */
  async query(sql: string, options: QueryOptions = {}): Promise<QueryResult> {
    const creds = this.#credentials ??= await this.#options.credentials();
    const endpoint = this.#options.endpoint ?? DEFAULT_ENDPOINTS.bigquery;
    const what = "BigQuery";
    const params = options.params && !Array.isArray(options.params)
      ? Object.entries(options.params).map(([name, value]) => ({
        name,
        parameterType: { type: typeof value === "number" ? "INT64" : "STRING" },
        parameterValue: { value: String(value) },
      }))
      : undefined;
    const response = await send(
      what,
      `${endpoint}/projects/${encodeURIComponent(creds.projectId)}/queries`,
      {
        method: "POST",
        headers: {
          authorization: `Bearer ${creds.token}`,
          "content-type": "application/json",
        },
        body: JSON.stringify({
          query: sql,
          useLegacySql: false,
          parameterMode: params ? "NAMED" : undefined,
          queryParameters: params,
        }),
      },
      { fetch: this.#options.fetch },
    );
    const body = await readJson(response, what);
    const fields =
      ((body.schema as { fields?: { name: string; type: string }[] })
        ?.fields) ?? [];
    const rows = ((body.rows as { f: { v: unknown }[] }[]) ?? []).map((row) => {
      const out: Record<string, unknown> = {};
      fields.forEach((f, i) => {
        const v = row.f[i].v;
        out[f.name] = v !== null && f.type === "INTEGER" ? Number(v) : v;
      });
      return out;
    });
    if (!body.jobComplete) throw new CredentialsError("query did not complete");
    return {
      rows,
      schema: fields,
      totalRows: Number(body.totalRows ?? rows.length),
    };
  }
}
