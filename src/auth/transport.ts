/**
 * The authorized transport: adds the access token to requests for the API's
 * origin, follows redirects by hand so the token never travels elsewhere,
 * and renews the token once when the API answers 401.
 */
import { CredentialsError } from "../errors.ts";

/** Sends one request (no redirects followed); `send()` with the caller's retry policy. */
export type Transport = (url: string, init: RequestInit) => Promise<Response>;

/** Where the token comes from, and where it may go. */
export interface TokenSource {
  /** The API base URL; only its origin receives the token. */
  readonly apiBaseUrl: string | undefined;
  /** A fresh access token. */
  accessToken(): Promise<string>;
  /** A new access token after the API refused `rejected`. */
  renewedAccessToken(rejected: string): Promise<string>;
  /** The plain transport for requests to other origins. */
  readonly fetch?: typeof fetch;
}

/**
 * Sends `request` with the access token when it is for the API's origin
 * (else as it is, through the plain `fetch`).
 */
export async function authorizedFetch(
  source: TokenSource,
  request: Request,
  transport: Transport,
): Promise<Response> {
  const base = source.apiBaseUrl
    ? new URL(source.apiBaseUrl).origin
    : undefined;
  if (new URL(request.url).origin !== base) {
    return (source.fetch ?? globalThis.fetch)(request);
  }
  const body = request.body ? await request.arrayBuffer() : undefined;
  let token = await source.accessToken();
  let response = await followRedirects(request, body, token, transport);
  if (response.status === 401) {
    await response.body?.cancel();
    token = await source.renewedAccessToken(token);
    response = await followRedirects(request, body, token, transport);
  }
  return response;
}

/** Follows redirects by hand so the token never travels to another origin. */
async function followRedirects(
  request: Request,
  body: ArrayBuffer | undefined,
  token: string,
  transport: Transport,
): Promise<Response> {
  const origin = new URL(request.url).origin;
  let url = request.url;
  let method = request.method;
  for (let hop = 0; hop < 10; hop++) {
    const headers = new Headers(request.headers);
    if (new URL(url).origin === origin) {
      headers.set("authorization", `Bearer ${token}`);
    } else headers.delete("authorization");
    const response = await transport(url, {
      method,
      headers,
      body: method === "GET" || method === "HEAD" ? undefined : body,
      redirect: "manual",
      signal: request.signal,
    });
    const location = response.headers.get("location");
    if (response.status < 300 || response.status >= 400 || !location) {
      return response;
    }
    await response.body?.cancel();
    url = new URL(location, url).href;
    if (
      response.status === 303 || (response.status <= 302 && method === "POST")
    ) method = "GET";
  }
  throw new CredentialsError(
    `Too many redirects from ${new URL(request.url).origin}.`,
    { code: "bad_response" },
  );
}
