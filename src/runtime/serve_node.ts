import { requireBuiltin } from "./builtins.ts";
import { addressInUse, type Serve } from "./serve.ts";

type Http = typeof import("node:http");

/**
 * The largest request body read into memory: these servers take a login
 * callback or a test's API call, never an upload (Bun answers 413 too).
 */
export const MAX_BODY_BYTES = 1 << 20;

/** {@linkcode Serve} on `node:http`, converting to and from `Request`/`Response`. */
export const serve: Serve = ({ hostname, port }, handler) => {
  const http = requireBuiltin<Http>("node:http", "A local HTTP server");
  const server = http.createServer(async (req, res) => {
    try {
      const chunks = await readBody(req);
      if (!chunks) {
        // Answer, then discard what still comes for a moment: closing with
        // unread data would reset the connection before the client reads the 413.
        req.resume();
        res.writeHead(413, { connection: "close" }).end();
        setTimeout(() => req.socket.destroy(), 2000).unref();
        return;
      }
      const hasBody = req.method !== "GET" && req.method !== "HEAD";
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        for (const v of Array.isArray(value) ? value : [value ?? ""]) {
          headers.append(name, v);
        }
      }
      const host = hostname.includes(":") ? `[${hostname}]` : hostname;
      const request = new Request(
        `http://${req.headers.host ?? host}${req.url}`,
        {
          method: req.method,
          headers,
          body: hasBody ? concat(chunks) : undefined,
        },
      );
      const response = await handler(request);
      res.writeHead(response.status, [...response.headers].flat());
      if (response.body) {
        for await (const chunk of response.body) res.write(chunk);
      }
      res.end();
    } catch {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", (error: Error & { code?: string }) => {
      reject(
        error.code === "EADDRINUSE"
          ? addressInUse(hostname, port, error)
          : error,
      );
    });
    server.listen(port, hostname, () => {
      const address = server.address();
      resolve({
        port: typeof address === "object" && address ? address.port : port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
};

/** The body's chunks; `undefined` once it passes {@linkcode MAX_BODY_BYTES}, the rest unread. */
function readBody(
  req: import("node:http").IncomingMessage,
): Promise<Uint8Array[] | undefined> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers["content-length"]) > MAX_BODY_BYTES) {
      return resolve(undefined);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    req.on("data", (chunk: Uint8Array) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      req.pause();
      req.removeAllListeners("data");
      resolve(undefined);
    });
    req.on("end", () => resolve(chunks));
    req.on("error", reject);
  });
}

function concat(chunks: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
