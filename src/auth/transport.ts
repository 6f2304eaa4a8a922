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
  let hop = await followRedirects(request, body, token, transport);
  // Only a 401 to a request that carried the token says the token is bad; a
  // third party's 401 after a redirect says nothing about it.
  if (hop.response.status === 401 && hop.tokenSent) {
    await hop.response.body?.cancel();
    token = await source.renewedAccessToken(token);
    hop = await followRedirects(request, body, token, transport);
  }
  return hop.response;
}

/** Headers that hold credentials: never sent to another origin (as undici and Deno's fetch do). */
const CREDENTIAL_HEADERS = ["authorization", "proxy-authorization", "cookie"];
/** Headers that describe a body: dropped when a redirect turns the request into a GET (Fetch spec). */
const BODY_HEADERS = [
  "content-type",
  "content-length",
  "content-encoding",
  "content-language",
  "content-location",
];

/**
 * Follows redirects by hand, as the Fetch spec does, with one rule more:
 * once the chain has left the API's origin the token is not sent again, even
 * to the API's origin, since the hop that sent it back there is not the API's
 * word. Only http(s) redirects are followed.
 */
async function followRedirects(
  request: Request,
  body: ArrayBuffer | undefined,
  token: string,
  transport: Transport,
): Promise<{ response: Response; tokenSent: boolean }> {
  const origin = new URL(request.url).origin;
  const headers = new Headers(request.headers);
  let url = new URL(request.url);
  let method = request.method;
  let withBody = method !== "GET" && method !== "HEAD";
  let trusted = true;
  for (let hop = 0; hop < 20; hop++) {
    trusted &&= url.origin === origin;
    if (trusted) headers.set("authorization", `Bearer ${token}`);
    else for (const name of CREDENTIAL_HEADERS) headers.delete(name);
    const response = await transport(url.href, {
      method,
      headers,
      body: withBody ? body : undefined,
      redirect: "manual",
      signal: request.signal,
    });
    const location = response.headers.get("location");
    if (![301, 302, 303, 307, 308].includes(response.status) || !location) {
      return { response, tokenSent: trusted };
    }
    await response.body?.cancel();
    const next = new URL(location, url);
    if (next.protocol !== "https:" && next.protocol !== "http:") {
      throw new CredentialsError(
        `${url.origin} redirected to a ${next.protocol} URL; only http(s) redirects are followed.`,
        { code: "bad_response", status: response.status },
      );
    }
    const toGet = response.status === 303
      ? method !== "GET" && method !== "HEAD"
      : response.status <= 302 && method === "POST";
    if (toGet) {
      method = "GET";
      withBody = false;
      for (const name of BODY_HEADERS) headers.delete(name);
    }
    url = next;
  }
  throw new CredentialsError(
    `Too many redirects from ${origin}.`,
    { code: "bad_response" },
  );
}
