import { requireBuiltin } from "./builtins.ts";
import { addressInUse, type Serve } from "./serve.ts";

type Http = typeof import("node:http");

/** {@linkcode Serve} on `node:http`, converting to and from `Request`/`Response`. */
export const serve: Serve = ({ hostname, port }, handler) => {
  const http = requireBuiltin<Http>("node:http", "A local HTTP server");
  const server = http.createServer(async (req, res) => {
    try {
      const chunks: Uint8Array[] = [];
      for await (const chunk of req) chunks.push(chunk);
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

function concat(chunks: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
