/**
 * A `fetch` for requests that must reach the server at most once. Deno's
 * `fetch` sends a request again, by itself, when a reused keep-alive
 * connection drops before the answer (the server may have processed the
 * first one); a Deno HTTP client that keeps no idle connections never reuses
 * one. Elsewhere (Node, Bun, workers) `fetch` does not resend.
 */

interface DenoHttp {
  createHttpClient?(options: { poolMaxIdlePerHost?: number }): unknown;
}

let client: unknown;

/**
 * `globalThis.fetch`, on a fresh connection in Deno.
 *
 * @example
 * ```ts ignore
 * const response = await fetchOnce(tokenEndpoint, { method: "POST", body });
 * ```
 */
export function fetchOnce(
  input: string | URL | Request,
  init?: RequestInit,
): Promise<Response> {
  const deno = (globalThis as { Deno?: DenoHttp }).Deno;
  if (!deno?.createHttpClient) return globalThis.fetch(input, init);
  client ??= deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  return globalThis.fetch(input, { ...init, client } as RequestInit);
}
