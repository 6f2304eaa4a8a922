/**
 * The `node:http` adapter of the local servers (login callback, fake CARTO)
 * under Node itself (issue 11, item 7): a huge request body is refused with
 * 413 after at most 1 MiB, and the server's memory does not grow with it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as esbuild from "esbuild";

const root = join(import.meta.dirname!, "..");

/** A Node process serving through `src/runtime/serve_node.ts`: echoes body sizes, reports its RSS. */
async function startNodeServer(): Promise<
  { port: number; child: ChildProcess; [Symbol.asyncDispose](): Promise<void> }
> {
  const dir = await mkdtemp(join(tmpdir(), "carto-auth-node-serve-"));
  const bundle = await esbuild.build({
    stdin: {
      contents: `
        import { serve } from "./src/runtime/serve_node.ts";
        const server = await serve({ hostname: "127.0.0.1", port: 0 }, async (request) => {
          if (new URL(request.url).pathname === "/rss") {
            globalThis.gc();
            return new Response(String(process.memoryUsage().rss));
          }
          return new Response(String((await request.arrayBuffer()).byteLength));
        });
        console.log(server.port);`,
      resolveDir: root,
      loader: "ts",
    },
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    logLevel: "silent",
  });
  const file = join(dir, "server.mjs");
  await writeFile(file, bundle.outputFiles[0].contents);
  const child = spawn("node", ["--expose-gc", file], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const [line] = await once(child.stdout!, "data");
  return {
    port: Number(String(line).trim()),
    child,
    async [Symbol.asyncDispose]() {
      child.kill();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Posts `size` bytes (chunked, or with `contentLength` declared) over a raw
 * socket, stopping as soon as the server answers; resolves with the answer.
 */
async function post(
  port: number,
  size: number,
  contentLength?: number,
): Promise<string> {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  let answer = "";
  socket.setEncoding("latin1");
  socket.on("data", (text: string) => (answer += text));
  socket.on("error", () => {}); // the server may hang up mid-upload
  // Not events.once: it rejects on the socket's "error".
  const closed = new Promise((r) => socket.once("close", r));
  const framing = contentLength === undefined
    ? "transfer-encoding: chunked"
    : `content-length: ${contentLength}`;
  socket.write(`POST /callback/ HTTP/1.1\r\nhost: x\r\n${framing}\r\n\r\n`);
  const chunk = new Uint8Array(64 * 1024).fill(120);
  for (let sent = 0; sent < size && !answer && !socket.destroyed;) {
    const framed = contentLength === undefined
      ? [`${chunk.length.toString(16)}\r\n`, chunk, "\r\n"]
      : [chunk];
    let flushed = true;
    for (const part of framed) flushed = socket.write(part) && flushed;
    sent += chunk.length;
    if (!flushed) {
      await Promise.race([new Promise((r) => socket.once("drain", r)), closed]);
    }
  }
  if (!answer && !socket.destroyed) {
    socket.end(contentLength === undefined ? "0\r\n\r\n" : "");
  }
  await Promise.race([
    closed,
    new Promise((r) => setTimeout(r, 10_000)),
    new Promise<void>((resolve) => {
      // Whole once the headers and the body (content-length or chunked) are in.
      const done = () => {
        const [head, body] = answer.split("\r\n\r\n", 2);
        if (body === undefined) return;
        const length = /content-length: (\d+)/i.exec(head)?.[1];
        if (
          length ? body.length >= Number(length) : body.endsWith("0\r\n\r\n")
        ) {
          resolve();
        }
      };
      socket.on("data", done);
    }),
  ]);
  socket.destroy();
  return answer;
}

async function rss(port: number): Promise<number> {
  return Number(await (await fetch(`http://127.0.0.1:${port}/rss`)).text());
}

test("Node adapter: a 128 MiB body is refused with 413 and does not grow the server's memory", async () => {
  await using server = await startNodeServer();
  const before = await rss(server.port);
  const answer = await post(server.port, 128 << 20);
  assert.match(answer, /^HTTP\/1\.1 413 /);
  const grown = (await rss(server.port)) - before;
  assert.ok(grown < 32 << 20, `RSS grew by ${Math.round(grown / 2 ** 20)} MiB`);
});

test("Node adapter: a declared 6 GB body is refused before any of it is read", async () => {
  await using server = await startNodeServer();
  const answer = await post(server.port, 64 * 1024, 6e9);
  assert.match(answer, /^HTTP\/1\.1 413 /);
});

test("Node adapter: bodies up to 1 MiB reach the handler whole", async () => {
  await using server = await startNodeServer();
  const answer = await post(server.port, 1 << 20, 1 << 20);
  assert.match(answer, /^HTTP\/1\.1 200 /);
  assert.match(answer, /\r\n\r\n7\r\n1048576\r\n0\r\n\r\n$/, "chunked");
});
