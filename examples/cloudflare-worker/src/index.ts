/**
 * A Cloudflare Worker that queries CARTO with a machine-to-machine client.
 * The client id and secret are secrets; the token lives in a Durable Object
 * (TOKEN_STORE), so every isolate uses the token one of them obtained and
 * only one renews it. Without that binding, a KV namespace (TOKENS) is the
 * simpler option: no class, no migration, one renewal per isolate.
 *
 *   GET  /health                  is the worker up (no call to CARTO)
 *   GET  /queries/:name?param=…   a named query of queries.ts (the only SQL a GET runs)
 *   POST /query                   {"sql", "params"?}: the CARTO Data Warehouse, JSON rows
 *   POST /sql/:connection         {"q"}: the CARTO SQL API on a connection
 *
 * Free-form SQL comes only in a JSON POST body, which a cross-site page
 * cannot send without a CORS preflight that this worker never grants. Every
 * Data Warehouse query has a cap on bytes billed and on rows, and its rows
 * stream out as they arrive.
 *
 * Errors are JSON `{ "error": "…" }` with a fitting status; they never
 * contain the token or the secret.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
// In your own worker: from "@carto/auth/worker" (no browser login, token files or YAML parser: workers need none).
import {
  CartoAuth,
  type CartoDwClient,
  type CloudflareKVNamespace,
  CloudflareKVTokenStore,
  CredentialsError,
  type Endpoints,
  type QueryParams,
} from "../../../worker.ts";
// In your own worker: from "@carto/auth/cloudflare".
import {
  type DurableObjectNamespaceLike,
  DurableObjectTokenStore,
} from "../../../cloudflare.ts";
import { NAMED_QUERIES } from "./queries.ts";

/** The Durable Object class of TOKEN_STORE (wrangler.toml); workerd needs it exported. */
export { TokenStoreDurableObject } from "../../../cloudflare.ts";

/** The worker's bindings (wrangler.toml and `wrangler secret put`). */
export interface Env {
  /** The Durable Object that holds the token and the lease of its renewal. */
  TOKEN_STORE?: DurableObjectNamespaceLike;
  /** Or a KV namespace that holds the token (the simpler option). */
  TOKENS?: CloudflareKVNamespace;
  /** e.g. `https://gcp-us-east1.api.carto.com`. */
  CARTO_API_BASE_URL: string;
  /** Secret: the M2M client id. */
  CARTO_CLIENT_ID: string;
  /** Secret: the M2M client secret. */
  CARTO_CLIENT_SECRET: string;
  /** Most bytes a query may bill, default 1 GB (`maximumBytesBilled`). */
  MAX_BYTES_BILLED?: string;
  /** Most rows a query returns, default 10,000; the answer says `truncated`. */
  MAX_ROWS?: string;
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
        `(wrangler.toml [vars]; the client id and secret with \`wrangler secret put\`, ` +
        `or in .dev.vars for \`wrangler dev\`).`,
    );
  }
  if (!env.TOKEN_STORE && !env.TOKENS) {
    throw new HttpError(
      500,
      "The worker is not configured: bind TOKEN_STORE (a Durable Object) or TOKENS (a KV namespace) in wrangler.toml.",
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
    store: env.TOKEN_STORE
      ? new DurableObjectTokenStore(env.TOKEN_STORE)
      : new CloudflareKVTokenStore(env.TOKENS!),
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

app.get("/queries/:name", async (c) => {
  const named = Object.hasOwn(NAMED_QUERIES, c.req.param("name"))
    ? NAMED_QUERIES[c.req.param("name")]
    : undefined;
  if (!named) throw new HttpError(404, `No query named ${c.req.param("name")}`);
  const params: Record<string, string> = {};
  for (const name of named.params) {
    const value = c.req.query(name);
    if (value === undefined) throw new HttpError(400, `Pass ?${name}=…`);
    params[name] = value;
  }
  return await streamQuery(c, named.sql, params);
});

app.post("/query", async (c) => {
  const { sql, params } = await jsonBody(c);
  if (typeof sql !== "string" || !sql) {
    throw new HttpError(400, 'Post the query as {"sql": "…"}');
  }
  const scalar = (v: unknown) =>
    ["string", "number", "boolean"].includes(typeof v);
  if (
    params !== undefined &&
    (!params || typeof params !== "object" || Array.isArray(params) ||
      !Object.values(params).every(scalar))
  ) {
    throw new HttpError(
      400,
      '"params" must map names to strings, numbers or booleans.',
    );
  }
  return await streamQuery(c, sql, params as QueryParams | undefined);
});

app.post("/sql/:connection", async (c) => {
  const { q } = await jsonBody(c);
  if (typeof q !== "string" || !q) {
    throw new HttpError(400, 'Post the query as {"q": "…"}');
  }
  const connection = encodeURIComponent(c.req.param("connection"));
  // POST, as querySql does for long queries: SQL never goes into a URL.
  const upstream = await cartoFor(c.env).auth.fetch(
    `/v3/sql/${connection}/query`,
    {
      method: "POST",
      headers: {
        accept: "application/json",
        "content-type": "application/json",
      },
      body: JSON.stringify({ q }),
    },
  );
  if (upstream.ok) {
    // Streamed through as it comes, however large.
    return new Response(upstream.body, {
      headers: { "content-type": "application/json" },
    });
  }
  throw new HttpError(
    upstreamStatus(upstream.status),
    `CARTO SQL API answered HTTP ${upstream.status}: ${
      errorText(await upstream.text())
    }`,
  );
});

// Free-form SQL by GET (a link, an <img>, a top-level navigation that
// carries Cloudflare Access cookies) is refused before anything runs.
app.get("/query", () => refuseGet("POST /query"));
app.get("/sql/:connection", () => refuseGet("POST /sql/:connection"));

app.notFound((c) => c.json({ error: `No route for ${c.req.path}` }, 404));

app.onError((err, c) => {
  const status = statusOf(err);
  const message = err instanceof HttpError || err instanceof CredentialsError
    ? err.message
    : "Internal error";
  if (status >= 500) console.error(`${c.req.method} ${c.req.path}: ${message}`);
  return c.json({ error: redact(message, c.env) }, status);
});

function refuseGet(instead: string): never {
  throw new HttpError(
    405,
    `SQL is not taken from a GET; ${instead} with a JSON body, or GET /queries/:name.`,
  );
}

/**
 * The JSON object a POST carries. Only `application/json` is read: a
 * cross-site form can send text/plain or form data without asking, but not
 * JSON, and a page of another site is refused outright.
 */
async function jsonBody(
  c: Context<{ Bindings: Env }>,
): Promise<Record<string, unknown>> {
  if (c.req.header("sec-fetch-site") === "cross-site") {
    throw new HttpError(403, "Requests from other sites are refused.");
  }
  if (!/^application\/json\s*(;|$)/i.test(c.req.header("content-type") ?? "")) {
    throw new HttpError(415, "Send the body as application/json.");
  }
  const body = await c.req.json().catch(() => undefined);
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw new HttpError(400, "The body is not a JSON object.");
  }
  return body;
}

/**
 * Runs `sql` with the worker's caps and streams `{schema, totalRows, rows,
 * truncated}`: rows go out as BigQuery pages arrive, and reading stops at
 * `MAX_ROWS`. Query errors (bad SQL, too many bytes) happen before the first
 * byte and are JSON errors; a failure mid-stream ends the stream early.
 */
async function streamQuery(
  c: Context<{ Bindings: Env }>,
  sql: string,
  params: QueryParams | undefined,
): Promise<Response> {
  const maxRows = Number(c.env.MAX_ROWS ?? 10_000);
  const dw = await dwFor(c.env);
  const rows = dw.queryRows(sql, {
    params,
    maximumBytesBilled: c.env.MAX_BYTES_BILLED ?? "1000000000",
    maxResults: Math.min(maxRows, 10_000),
  });
  const { schema, totalRows } = await rows.meta();
  const encoder = new TextEncoder();
  let sent = 0;
  let opened = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!opened) {
        opened = true;
        const head = { schema, totalRows };
        const json = JSON.stringify(head).slice(0, -1);
        return controller.enqueue(encoder.encode(`${json},"rows":[`));
      }
      const next = sent < maxRows ? await rows.next() : undefined;
      if (next && !next.done) {
        const row = JSON.stringify(next.value);
        controller.enqueue(encoder.encode(`${sent++ ? "," : ""}${row}`));
        return;
      }
      await rows.return();
      const truncated = sent < totalRows;
      controller.enqueue(encoder.encode(`],"truncated":${truncated}}`));
      controller.close();
    },
    async cancel() {
      await rows.return();
    },
  });
  return c.body(body, 200, { "content-type": "application/json" });
}

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
