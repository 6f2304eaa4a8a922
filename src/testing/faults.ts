import type { FakeFault } from "./fake_requests.ts";

/**
 * The faults the fake CARTO can inject on any route:
 *
 * - `500`, `502`, `503`: an HTTP error (JSON body);
 * - `429`: too many requests, with `Retry-After: 1`;
 * - `reset`: the connection drops before a complete answer;
 * - `hang`: no answer at all (until the fake closes);
 * - `slow-body`: headers at once, then a byte every 200 ms, for minutes;
 * - `invalid-json`: 200 with a body that is not JSON;
 * - `html`: 200 with an HTML page (a proxy or captive portal);
 * - `missing-fields`: 200 with `{}`;
 * - `huge-body`: 200 with 10 MB of JSON.
 */
export type FaultKind =
  | "500"
  | "502"
  | "503"
  | "429"
  | "reset"
  | "hang"
  | "slow-body"
  | "invalid-json"
  | "html"
  | "missing-fields"
  | "huge-body";

/** Every {@linkcode FaultKind}, for test matrices. */
export const FAULT_KINDS: readonly FaultKind[] = [
  "500",
  "502",
  "503",
  "429",
  "reset",
  "hang",
  "slow-body",
  "invalid-json",
  "html",
  "missing-fields",
  "huge-body",
];

const json = (
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

/** The fault `kind` as a handler; `closing` ends hangs and slow bodies when the fake stops. */
export function faultHandler(kind: FaultKind, closing: AbortSignal): FakeFault {
  switch (kind) {
    case "500":
    case "502":
    case "503":
      return () =>
        json(Number(kind), {
          error: "server_error",
          error_description: "injected",
        });
    case "429":
      return () =>
        json(429, {
          error: "too_many_requests",
          error_description: "slow down",
        }, {
          "retry-after": "1",
        });
    case "reset":
      return () =>
        new Response(
          new ReadableStream({
            start(controller) {
              controller.enqueue(new TextEncoder().encode('{"access_tok'));
              controller.error(new Error("connection reset (injected)"));
            },
          }),
          { headers: { "content-type": "application/json" } },
        );
    case "hang":
      return () =>
        new Promise<Response>((resolve) => {
          const end = () => resolve(json(503, { error: "closing" }));
          if (closing.aborted) end();
          closing.addEventListener("abort", end, { once: true });
        });
    case "slow-body":
      return () => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode("{"));
          },
          pull(controller) {
            if (closing.aborted) return controller.close();
            return new Promise<void>((resolve) => {
              timer = setTimeout(() => {
                controller.enqueue(new TextEncoder().encode(" "));
                resolve();
              }, 200);
            });
          },
          cancel() {
            clearTimeout(timer);
          },
        });
        return new Response(body, {
          headers: { "content-type": "application/json" },
        });
      };
    case "invalid-json":
      return () =>
        new Response("{not json", {
          headers: { "content-type": "application/json" },
        });
    case "html":
      return () =>
        new Response(
          "<!doctype html><title>Sign in to the Wi-Fi</title><p>Welcome</p>",
          {
            headers: { "content-type": "text/html" },
          },
        );
    case "missing-fields":
      return () => json(200, {});
    case "huge-body":
      return () =>
        new Response(hugeBody(), {
          headers: { "content-type": "application/json" },
        });
  }
}

let huge: Uint8Array<ArrayBuffer> | undefined;

/**
 * 10 MB of JSON, encoded once: building it for each request can take longer
 * than a client's short timeout on a busy machine, and the fault is the size.
 */
function hugeBody(): Uint8Array<ArrayBuffer> {
  return huge ??= new TextEncoder().encode(
    JSON.stringify({ padding: "x".repeat(10 * 1024 * 1024) }),
  );
}
