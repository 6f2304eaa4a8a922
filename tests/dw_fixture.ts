/**
 * What the Data Warehouse tests share: a fake CARTO, a client on it with
 * tiny retry and poll delays (so retries cost milliseconds), and the
 * BigQuery requests the fake received.
 */
import {
  CartoAuth,
  type CartoDwClient,
  type CartoDwClientOptions,
} from "../mod.ts";
import { type FakeCarto, startFakeCarto } from "../src/testing/mod.ts";

/** A fake CARTO and a DW client on it. */
export interface DwFixture {
  fake: FakeCarto;
  auth: CartoAuth;
  dw: CartoDwClient;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Client options that keep retries and polls quick in tests. */
export const QUICK = {
  retry: { initialDelayMs: 1, maxDelayMs: 4 },
  pollIntervalMs: 1,
} as const;

/** Starts a fake CARTO and logs in with M2M; `await using` closes it. */
export async function dwFixture(
  options: Omit<CartoDwClientOptions, "credentials" | "initialCredentials"> =
    {},
): Promise<DwFixture> {
  const fake = await startFakeCarto();
  const auth = await CartoAuth.fromM2M(fake.credentials, {
    endpoints: fake.endpoints,
    useCache: false,
  });
  const dw = await auth.getCartoDwClient({ ...QUICK, ...options });
  return { fake, auth, dw, [Symbol.asyncDispose]: () => fake.close() };
}

/** A BigQuery request the fake received, with its JSON body and query string. */
export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
  authorization: string | null;
}

/** The BigQuery requests the fake received, oldest first. */
export function bigqueryRequests(fake: FakeCarto): SeenRequest[] {
  return fake.requests.filter((r) => r.route === "bigquery").map((r) => {
    const url = new URL(r.path, fake.url);
    return {
      method: r.method,
      path: url.pathname,
      query: url.searchParams,
      body: r.body ? JSON.parse(r.body) : {},
      authorization: r.headers.get("authorization"),
    };
  });
}

/** A BigQuery error body, as the fake's `failNext` should send it. */
export function bigqueryError(
  status: number,
  reason: string,
  message = `${reason} (injected)`,
): { status: number; body: unknown } {
  return {
    status,
    body: { error: { code: status, message, errors: [{ reason, message }] } },
  };
}
