/**
 * A proxy on 127.0.0.1 that passes requests on to an upstream server and,
 * for the requests a test picks, drops the connection *after* the upstream
 * answered: the server has processed the request (spent a code, rotated a
 * refresh token) but the client never learns the outcome.
 */
import { runtimeServe } from "../src/runtime/serve.ts";

/** A running {@linkcode startDroppingProxy}. */
export interface DroppingProxy {
  /** `http://127.0.0.1:<port>`: replaces the upstream origin in URLs. */
  readonly origin: string;
  /** Request bodies (form) of the answers dropped so far, in order. */
  readonly dropped: URLSearchParams[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Proxies every request to `upstream` (an origin); `drop` decides, from the
 * method, path and form body, whether the answer is lost on the way back.
 */
export async function startDroppingProxy(
  upstream: string,
  drop: (
    request: { method: string; path: string; form: URLSearchParams },
  ) => boolean,
): Promise<DroppingProxy> {
  const dropped: URLSearchParams[] = [];
  const serve = await runtimeServe();
  const server = await serve({ hostname: "127.0.0.1", port: 0 }, async (r) => {
    const url = new URL(r.url);
    const body = r.method === "GET" ? undefined : await r.text();
    const headers = new Headers(r.headers);
    headers.delete("host");
    const answer = await fetch(upstream + url.pathname + url.search, {
      method: r.method,
      headers,
      body,
      redirect: "manual",
    });
    const answerBody = await answer.arrayBuffer();
    const form = new URLSearchParams(body ?? "");
    if (drop({ method: r.method, path: url.pathname, form })) {
      dropped.push(form);
      // The upstream has answered; the client gets a connection that breaks.
      return new Response(
        new ReadableStream({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('{"access_tok'));
            controller.error(new Error("connection dropped (proxy)"));
          },
        }),
        { headers: { "content-type": "application/json" } },
      );
    }
    const out = new Headers(answer.headers);
    out.delete("content-encoding");
    out.delete("content-length");
    out.delete("transfer-encoding");
    return new Response(answerBody, { status: answer.status, headers: out });
  });
  const close = () => server.close();
  return {
    origin: `http://127.0.0.1:${server.port}`,
    dropped,
    close,
    [Symbol.asyncDispose]: close,
  };
}
