/** A web-standard request handler. */
export type Handler = (request: Request) => Response | Promise<Response>;

/** Where a {@linkcode Serve} listens. */
export interface ServeOptions {
  /** `127.0.0.1` or `::1`; these servers never listen beyond loopback. */
  hostname: string;
  /** 0 picks a free port. */
  port: number;
}

/** A running server. */
export interface Server {
  /** The port it listens on. */
  readonly port: number;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/**
 * Starts an HTTP server for `handler`. Rejects with an error whose `code` is
 * `"EADDRINUSE"` when the port is taken. Each runtime has its adapter:
 * `Deno.serve`, `Bun.serve`, or `node:http`.
 */
export type Serve = (
  options: ServeOptions,
  handler: Handler,
) => Promise<Server>;

/** The error every adapter throws for a port in use. */
export function addressInUse(
  hostname: string,
  port: number,
  cause?: unknown,
): Error {
  const error = new Error(`${hostname}:${port} is already in use`, { cause });
  (error as Error & { code: string }).code = "EADDRINUSE";
  return error;
}

/** The adapter for the runtime this code runs on. */
export async function runtimeServe(): Promise<Serve> {
  if ("Deno" in globalThis) return (await import("./serve_deno.ts")).serve;
  if ("Bun" in globalThis) return (await import("./serve_bun.ts")).serve;
  return (await import("./serve_node.ts")).serve;
}
