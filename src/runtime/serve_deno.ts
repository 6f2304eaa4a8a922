import { addressInUse, type Serve } from "./serve.ts";

interface DenoServer {
  addr: { port: number };
  shutdown(): Promise<void>;
}
interface DenoLike {
  serve(
    options: { hostname: string; port: number; onListen(): void },
    handler: (request: Request) => Response | Promise<Response>,
  ): DenoServer;
  errors: { AddrInUse: new () => Error };
}

/** {@linkcode Serve} on `Deno.serve`. */
export const serve: Serve = (options, handler) => {
  const deno = (globalThis as unknown as { Deno: DenoLike }).Deno;
  let server: DenoServer;
  try {
    server = deno.serve({ ...options, onListen() {} }, handler);
  } catch (error) {
    if (error instanceof deno.errors.AddrInUse) {
      throw addressInUse(options.hostname, options.port, error);
    }
    throw error;
  }
  return Promise.resolve({
    port: server.addr.port,
    close: () => server.shutdown(),
  });
};
