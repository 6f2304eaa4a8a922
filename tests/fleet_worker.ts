/**
 * One isolate of a worker fleet in workerd (see `worker_durable_object.ts`):
 * a CartoAuth per isolate over a DurableObjectTokenStore. `GET /run?calls=N`
 * makes N concurrent getAccessToken (and getCartoDwCredentials) calls and
 * answers what they got, like `fleet_child.ts` does for processes.
 */
import { CartoAuth, type Endpoints } from "../mod.ts";
import {
  type DurableObjectNamespaceLike,
  DurableObjectTokenStore,
} from "../cloudflare.ts";
import type { FleetChildResult } from "./fleet_child.ts";

export { TokenStoreDurableObject } from "../cloudflare.ts";

interface Env {
  TOKEN_STORE: DurableObjectNamespaceLike;
  CARTO_API_BASE_URL: string;
  CARTO_CLIENT_ID: string;
  CARTO_CLIENT_SECRET: string;
  CARTO_AUTH_URL: string;
  CARTO_ACCOUNTS_URL: string;
  CARTO_BIGQUERY_URL: string;
  LEASE_MS: string;
}

let auth: CartoAuth | undefined;
/** Calls this isolate made to the object. */
let storeCalls = 0;

/** `namespace`, counting the calls to its objects. */
function counted(
  namespace: DurableObjectNamespaceLike,
): DurableObjectNamespaceLike {
  return {
    idFromName: (name) => namespace.idFromName(name),
    get(id) {
      const stub = namespace.get(id);
      return {
        fetch: (input, init) => (storeCalls++, stub.fetch(input, init)),
      };
    },
  };
}

function authFor(env: Env, mode: "m2m" | "oauth"): CartoAuth {
  const endpoints: Endpoints = {
    auth: env.CARTO_AUTH_URL,
    accounts: env.CARTO_ACCOUNTS_URL,
    bigquery: env.CARTO_BIGQUERY_URL,
  };
  return auth ??= new CartoAuth({
    mode,
    apiBaseUrl: env.CARTO_API_BASE_URL,
    clientId: mode === "m2m" ? env.CARTO_CLIENT_ID : undefined,
    clientSecret: mode === "m2m" ? env.CARTO_CLIENT_SECRET : undefined,
    endpoints,
    store: new DurableObjectTokenStore(counted(env.TOKEN_STORE), {
      lease: { ttlMs: Number(env.LEASE_MS) },
    }),
    openBrowser: false,
    prompt: () => Promise.reject(new Error("an isolate never logs in")),
  });
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const mode = url.searchParams.get("mode") === "oauth" ? "oauth" : "m2m";
    const calls = Number(url.searchParams.get("calls") ?? 1);
    const withDw = url.searchParams.get("dw") === "1";
    const carto = authFor(env, mode);
    const started = Date.now();
    const latencies: number[] = [];
    const dwLatencies: number[] = [];
    const firstAt: number[] = [];
    const calledBefore = storeCalls;
    const timed = async <T>(
      into: number[],
      call: () => Promise<T>,
    ): Promise<T> => {
      const value = await call();
      if (!into.length) firstAt[into === latencies ? 0 : 1] = Date.now();
      into.push(Date.now() - started);
      return value;
    };
    try {
      const [tokens, dw] = await Promise.all([
        Promise.all(
          Array.from(
            { length: calls },
            () => timed(latencies, () => carto.getAccessToken()),
          ),
        ),
        withDw
          ? Promise.all(
            Array.from(
              { length: calls },
              () => timed(dwLatencies, () => carto.getCartoDwCredentials()),
            ),
          )
          : [],
      ]);
      const result: FleetChildResult = {
        tokens: [...new Set(tokens)],
        dwTokens: [...new Set(dw.map(([, token]) => token))],
        latencies,
        dwLatencies,
        firstAt,
        storeCalls: storeCalls - calledBefore,
      };
      return Response.json(result);
    } catch (e) {
      return Response.json({ error: String(e) }, { status: 500 });
    }
  },
};
