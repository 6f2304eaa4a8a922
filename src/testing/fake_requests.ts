/**
 * The requests the fake CARTO receives: which upstream call each one is, the
 * record of them all, and the faults queued to answer them instead.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";

/**
 * The upstream calls whose answers a test can replace with `fake.failNext`.
 *
 * @example
 * ```ts ignore
 * const route: FakeRoute = "token";
 * console.log(fake.count(route)); // token requests so far
 * ```
 */
export type FakeRoute =
  | "authorize"
  | "token"
  | "revoke"
  | "accounts"
  | "orgId"
  | "config"
  | "dwToken"
  | "sql"
  | "bigquery";

/**
 * One request the fake received.
 *
 * @example
 * ```ts ignore
 * const exchange = fake.requests.find((r) => r.route === "token")!;
 * console.log(new URLSearchParams(exchange.body).get("grant_type"));
 * ```
 */
export interface RecordedRequest {
  /** Which upstream call it was; `undefined` for unknown paths. */
  route?: FakeRoute;
  /** HTTP method. */
  method: string;
  /** Path and query, e.g. `/auth0/oauth/token`. */
  path: string;
  /** Request headers, `authorization` included. */
  headers: Headers;
  /** The body as text (`""` when none). */
  body: string;
}

/**
 * A replacement answer for `fake.failNext`: a function of the request.
 *
 * @example
 * ```ts ignore
 * const busy: FakeFault = () => new Response("{}", { status: 503 });
 * fake.failNext("bigquery", busy);
 * ```
 */
export type FakeFault = (request: Request) => Response | Promise<Response>;

/** A queued fault, and which requests it applies to. */
interface QueuedFault {
  respond: FakeFault;
  when?: (request: Request) => boolean;
}

/**
 * The record of the fake's requests and its queued faults, with the Hono
 * middleware that records every request, waits `latencyMs`, and answers
 * with a due fault instead of the route.
 *
 * @example
 * ```ts ignore
 * const log = new RequestLog(0);
 * app.use("*", log.middleware);
 * log.enqueue("token", () => new Response("", { status: 500 }), 1);
 * ```
 */
export class RequestLog {
  /** Every request received, oldest first. */
  readonly requests: RecordedRequest[] = [];
  readonly #faults = new Map<FakeRoute, QueuedFault[]>();
  readonly #latencyMs: number;

  /** `latencyMs`: answer every request this much later. */
  constructor(latencyMs: number) {
    this.#latencyMs = latencyMs;
  }

  /** Answers the next `times` requests to `route` that `when` accepts with `respond`. */
  enqueue(
    route: FakeRoute,
    respond: FakeFault,
    times: number,
    when?: (request: Request) => boolean,
  ): void {
    const queue = this.#faults.get(route) ?? [];
    for (let i = 0; i < times; i++) queue.push({ respond, when });
    this.#faults.set(route, queue);
  }

  /** How many requests reached `route`. */
  count(route: FakeRoute): number {
    return this.requests.filter((r) => r.route === route).length;
  }

  /** Records the request, then answers with a due fault or passes it on. */
  readonly middleware: MiddlewareHandler = async (c, next) => {
    const path = new URL(c.req.url).pathname;
    const route = routeOf(path);
    const recorded: RecordedRequest = {
      route,
      method: c.req.method,
      path: path + new URL(c.req.url).search,
      headers: new Headers(c.req.raw.headers),
      // Hono caches the body, so handlers can still read it.
      body: c.req.method === "GET" ? "" : await c.req.text(),
    };
    this.requests.push(recorded);
    if (this.#latencyMs) {
      await new Promise((r) => setTimeout(r, this.#latencyMs));
    }
    const queue = route ? this.#faults.get(route) ?? [] : [];
    const { method, headers, body } = recorded;
    const request = () =>
      new Request(c.req.url, { method, headers, body: body || undefined });
    const index = queue.findIndex((f) => !f.when || f.when(request()));
    if (index >= 0) return queue.splice(index, 1)[0].respond(request());
    await next();
  };
}

function routeOf(path: string): FakeRoute | undefined {
  if (path === "/auth0/authorize") return "authorize";
  if (path === "/auth0/oauth/token") return "token";
  if (path === "/auth0/oauth/revoke") return "revoke";
  if (path === "/accounts-api/accounts") return "accounts";
  if (path.startsWith("/accounts-api/accounts/")) return "orgId";
  if (path === "/config.yaml") return "config";
  if (path === "/api/v3/connections/carto-dw/token") return "dwToken";
  if (path.startsWith("/api/v3/sql/")) return "sql";
  if (path.startsWith("/bigquery/v2/")) return "bigquery";
  return undefined;
}
