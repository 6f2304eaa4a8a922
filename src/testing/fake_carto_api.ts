/**
 * CARTO's own services in the fake CARTO: the accounts API (the tenant, SSO
 * organizations by name), the tenant's `config.yaml`, and the API at `/api`
 * (the DW token and the SQL API).
 *
 * @module
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { FakeBigQuery } from "./fake_bigquery_types.ts";
import { randomId } from "./util.ts";

/** What the CARTO services of {@linkcode fakeCartoApi} are built over. */
export interface FakeCartoApiOptions {
  /** Whether `token` is a CARTO access token the fake Auth0 issued. */
  isValidToken(token: string): boolean;
  /** SSO organizations, name → Auth0 id. */
  orgs: Record<string, string>;
  /** The fake's origin, `http://127.0.0.1:<port>`, once it listens. */
  origin(): string;
  /** The DW project id. */
  dwProjectId: string;
  /** `expires_in` of issued DW tokens. */
  dwExpiresIn: number;
  /** Issued DW tokens → expiry (Unix s); the fake BigQuery accepts these. */
  dwTokens: Map<string, number>;
  /** Runs the SQL of the SQL API. */
  bigquery: FakeBigQuery;
}

/**
 * The routes of CARTO's services, to mount at `/`.
 *
 * @example
 * ```ts ignore
 * app.route("/", fakeCartoApi({ isValidToken, orgs, origin, … }));
 * ```
 */
export function fakeCartoApi(options: FakeCartoApiOptions): Hono {
  const { isValidToken, orgs, origin, dwProjectId, dwTokens } = options;
  const now = () => Math.floor(Date.now() / 1000);
  const bearer = (c: Context) =>
    /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1];
  const unauthorized = (c: Context) =>
    c.json({ error: "Unauthorized", message: "Missing or invalid token" }, 401);
  const app = new Hono();

  app.get("/accounts-api/accounts", (c) => {
    const token = bearer(c);
    if (!token || !isValidToken(token)) return unauthorized(c);
    return c.json({ id: "ac_fake", tenant_domain: new URL(origin()).host });
  });

  app.get("/accounts-api/accounts/:name/auth0_org_id", (c) => {
    const id = orgs[c.req.param("name")];
    if (!id) return c.json({ error: "Account not found" }, 404);
    return c.json({ auth0orgId: id });
  });

  app.get("/config.yaml", (c) =>
    c.text(
      [
        "# tenant configuration",
        "apis:",
        `  baseUrl: "${origin()}/api"`,
        `  workspaceUrl: "${origin()}/workspace"`,
        "",
      ].join("\n"),
      200,
      { "content-type": "text/yaml" },
    ));

  app.get("/api/v3/connections/carto-dw/token", (c) => {
    const token = bearer(c);
    if (!token || !isValidToken(token)) return unauthorized(c);
    const dwToken = `ya29.fake-${randomId(20)}`;
    dwTokens.set(dwToken, now() + options.dwExpiresIn);
    return c.json({ projectId: dwProjectId, token: dwToken });
  });

  const sql = (c: Context, query: string | undefined) => {
    const token = bearer(c);
    if (!token || !isValidToken(token)) return unauthorized(c);
    if (!query) return c.json({ error: "Missing q parameter" }, 400);
    const result = options.bigquery.evaluate(query);
    if ("error" in result) return c.json({ error: result.error }, 400);
    return c.json({
      rows: result.values.map((row) =>
        Object.fromEntries(
          result.schema.map((f, i) => [f.name, sqlApiValue(f.type, row[i])]),
        )
      ),
      schema: result.schema.map((f) => ({
        name: f.name,
        type: f.type.toLowerCase(),
      })),
      meta: { cacheHit: false, totalBytesProcessed: "0", location: "US" },
    });
  };
  app.get("/api/v3/sql/:connection/query", (c) => sql(c, c.req.query("q")));
  app.post("/api/v3/sql/:connection/query", async (c) => {
    const body = await c.req.json().catch(() => ({}));
    return sql(c, typeof body?.q === "string" ? body.q : undefined);
  });
  return app;
}

/** The SQL API answers with JSON values, not BigQuery's strings. */
function sqlApiValue(type: string, value: unknown): unknown {
  if (value === null || typeof value !== "string") return value;
  if (type === "INTEGER" || type === "FLOAT") return Number(value);
  if (type === "BOOLEAN") return value === "true";
  return value;
}
