import { addressInUse, type Serve } from "./serve.ts";

interface BunServer {
  port: number;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}
interface BunLike {
  serve(options: {
    hostname: string;
    port: number;
    idleTimeout: number;
    fetch(request: Request): Response | Promise<Response>;
  }): BunServer;
}

/** {@linkcode Serve} on `Bun.serve`. */
export const serve: Serve = (options, handler) => {
  const bun = (globalThis as unknown as { Bun: BunLike }).Bun;
  let server: BunServer;
  try {
    // The longest idle time Bun allows, so a slow test client is not cut off.
    server = bun.serve({ ...options, idleTimeout: 255, fetch: handler });
  } catch (error) {
    if ((error as { code?: string }).code === "EADDRINUSE") {
      throw addressInUse(options.hostname, options.port, error);
    }
    throw error;
  }
  return Promise.resolve({
    port: server.port,
    close: async () => {
      // Stop listening and let a response being written (the browser's
      // redirect after a login) go out before cutting the connections.
      await server.stop(false);
      await server.stop(true);
    },
  });
};
