/**
 * A Cloudflare Worker that queries CARTO with a machine-to-machine client.
 * The client id and secret are secrets; the token lives in KV, so every
 * isolate uses the token one of them obtained.
 *
 *   GET /health                     is the worker up (no call to CARTO)
 *   GET /query?sql=…                the CARTO Data Warehouse, JSON rows
 *   GET /sql/:connection?q=…        the CARTO SQL API on a connection
 *
 * Errors are JSON `{ "error": "…" }` with a fitting status; they never
 * contain the token or the secret.
 */
import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
// In your own worker: from "@carto/auth".
import {
  CartoAuth,
  type CartoDwClient,
  type CloudflareKVNamespace,
  CloudflareKVTokenStore,
  CredentialsError,
  type Endpoints,
} from "../../../mod.ts";

/** The worker's bindings (wrangler.toml and `wrangler secret put`). */
export interface Env {
  /** KV namespace that holds the token. */
  TOKENS: CloudflareKVNamespace;
  /** e.g. `https://gcp-us-east1.api.carto.com`. */
  CARTO_API_BASE_URL: string;
  /** Secret: the M2M client id. */
  CARTO_CLIENT_ID: string;
  /** Secret: the M2M client secret. */
  CARTO_CLIENT_SECRET: string;
  /** Optional overrides of the services' base URLs (tests, staging). */
  CARTO_AUTH_URL?: string;
  CARTO_ACCOUNTS_URL?: string;
  CARTO_BIGQUERY_URL?: string;
}

/** An error with the status this worker answers it with. */
class HttpError extends Error {
  constructor(readonly status: ContentfulStatusCode, message: string) {
    super(message);
  }
}

const REQUIRED = [
  "CARTO_API_BASE_URL",
  "CARTO_CLIENT_ID",
  "CARTO_CLIENT_SECRET",
] as const;

/**
 * One CartoAuth per isolate: the token in memory and the single flight of
 * its renewal are shared by every request the isolate serves; KV shares the
 * token between isolates.
 */
let carto: { auth: CartoAuth; dw?: Promise<CartoDwClient> } | undefined;

function cartoFor(env: Env): NonNullable<typeof carto> {
  if (carto) return carto;
  const missing = REQUIRED.filter((name) => !env[name]);
  if (missing.length) {
    throw new HttpError(
      500,
      `The worker is not configured: set ${missing.join(", ")} ` +
        `(wrangler.toml [vars], or \`wrangler secret put\` for the client id and secret).`,
    );
  }
  const endpoints: Partial<Endpoints> = {};
  if (env.CARTO_AUTH_URL) endpoints.auth = env.CARTO_AUTH_URL;
  if (env.CARTO_ACCOUNTS_URL) endpoints.accounts = env.CARTO_ACCOUNTS_URL;
  if (env.CARTO_BIGQUERY_URL) endpoints.bigquery = env.CARTO_BIGQUERY_URL;
  const auth = new CartoAuth({
    mode: "m2m",
    apiBaseUrl: env.CARTO_API_BASE_URL,
    clientId: env.CARTO_CLIENT_ID,
    clientSecret: env.CARTO_CLIENT_SECRET,
    endpoints,
    store: new CloudflareKVTokenStore(env.TOKENS),
  });
  return carto = { auth };
}

/** The DW client of this isolate (it renews its Google token by itself). */
function dwFor(env: Env): Promise<CartoDwClient> {
  const c = cartoFor(env);
  c.dw ??= c.auth.getCartoDwClient().catch((e) => {
    c.dw = undefined;
    throw e;
  });
  return c.dw;
}

const app = new Hono<{ Bindings: Env }>();

app.get("/health", (c) => c.json({ ok: true }));

app.get("/query", async (c) => {
  const sql = c.req.query("sql");
  if (!sql) throw new HttpError(400, "Pass the query as ?sql=…");
  const dw = await dwFor(c.env);
  const { rows, schema, totalRows } = await dw.query(sql);
  return c.json({ rows, schema, totalRows });
});

app.get("/sql/:connection", async (c) => {
  const q = c.req.query("q");
  if (!q) throw new HttpError(400, "Pass the query as ?q=…");
  const connection = encodeURIComponent(c.req.param("connection"));
  const { auth } = cartoFor(c.env);
  const upstream = await auth.fetch(
    `/v3/sql/${connection}/query?q=${encodeURIComponent(q)}`,
    { headers: { accept: "application/json" } },
  );
  const text = await upstream.text();
  if (upstream.ok) {
    return c.body(text, 200, { "content-type": "application/json" });
  }
  throw new HttpError(
    upstreamStatus(upstream.status),
    `CARTO SQL API answered HTTP ${upstream.status}: ${errorText(text)}`,
  );
});

app.notFound((c) => c.json({ error: `No route for ${c.req.path}` }, 404));

app.onError((err, c) => {
  const status = statusOf(err);
  const message = err instanceof HttpError || err instanceof CredentialsError
    ? err.message
    : "Internal error";
  if (status >= 500) console.error(`${c.req.method} ${c.req.path}: ${message}`);
  return c.json({ error: redact(message, c.env) }, status);
});

/** The status for an error: the client's fault (4xx), CARTO's (502/504), or ours (500). */
function statusOf(err: Error): ContentfulStatusCode {
  if (err instanceof HttpError) return err.status;
  if (!(err instanceof CredentialsError)) return 500;
  if (err.code === "invalid_credentials" || err.code === "login_required") {
    return 502;
  }
  if (err.code === "timeout") return 504;
  if (err.status) return upstreamStatus(err.status);
  if (err.code === "invalid_input") return 500;
  return 502;
}

/** A CARTO or BigQuery status as this worker's: their 4xx is the caller's query; the rest is a bad gateway. */
function upstreamStatus(status: number): ContentfulStatusCode {
  if (status === 401 || status === 403) return 502;
  if (status >= 400 && status < 500) return status as ContentfulStatusCode;
  return 502;
}

/** What an upstream error body says: its `error` (text or `{ message }`), else the text itself. */
function errorText(text: string): string {
  try {
    const body = JSON.parse(text);
    const error = body?.error;
    const said = typeof error === "string" ? error : error?.message;
    if (typeof said === "string" && said) return said;
  } catch {
    // Not JSON: fall through to the text.
  }
  return text.slice(0, 300) || "no details";
}

/** The secret never leaves the worker, even if some message held it. */
function redact(message: string, env: Env): string {
  const secret = env?.CARTO_CLIENT_SECRET;
  return secret ? message.replaceAll(secret, "[secret]") : message;
}

export default app;
