/**
 * A real `redis-server` (the Debian package; `.ci/run` installs it) started
 * on 127.0.0.1 with a random port and a temporary folder, and a minimal RESP
 * client over a socket, so that the tests need no Redis library. Tests of a
 * real client library use `redis` (node-redis) and Bun's built-in client.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import type { RedisSend } from "../mod.ts";

/** Why there is no Redis here (`redis-server` not installed), else `undefined`. */
export const redisUnavailable: string | undefined =
  spawnSync("redis-server", ["--version"]).status === 0
    ? undefined
    : "redis-server is not installed (apt-get install redis-server; .ci/run does)";

/** A running server. */
export interface RedisServer {
  readonly port: number;
  /** A new connection's `send`, and a way to close it. */
  connect(): Promise<RespClient>;
  /** Stops the server and removes its folder. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `redis-server` with nothing saved to disk; it stops with `close`. */
export async function startRedis(): Promise<RedisServer> {
  for (let attempt = 0;; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), "carto-auth-redis-"));
    const port = await freePort();
    const child = spawn("redis-server", [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "no",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    const ready = await new Promise<boolean>((resolve) => {
      let out = "";
      child.stdout!.on("data", (chunk) => {
        out += chunk;
        if (out.includes("Ready to accept connections")) resolve(true);
      });
      child.on("exit", () => resolve(false));
      child.on("error", () => resolve(false));
    });
    if (!ready) {
      await rm(dir, { recursive: true, force: true });
      // Another program took the port between freePort and the start.
      if (attempt < 3) continue;
      throw new Error(`redis-server did not start on port ${port}`);
    }
    child.stdout!.resume();
    child.stderr!.resume();
    const clients: RespClient[] = [];
    const close = async () => {
      for (const c of clients.splice(0)) c.close();
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    };
    return {
      port,
      async connect() {
        const client = await RespClient.connect(port);
        clients.push(client);
        return client;
      },
      close,
      [Symbol.asyncDispose]: close,
    };
  }
}

/** Parses one RESP2 reply at `at`; `undefined` when `buf` holds less than a whole one. */
function parseReply(
  buf: Buffer,
  at: number,
): { value: unknown; end: number } | undefined {
  const eol = buf.indexOf("\r\n", at);
  if (eol < 0) return undefined;
  const line = buf.toString("utf8", at + 1, eol);
  switch (String.fromCharCode(buf[at])) {
    case "+":
      return { value: line, end: eol + 2 };
    case "-":
      return { value: new RedisReplyError(line), end: eol + 2 };
    case ":":
      return { value: Number(line), end: eol + 2 };
    case "$": {
      const length = Number(line);
      if (length < 0) return { value: null, end: eol + 2 };
      const start = eol + 2;
      if (buf.length < start + length + 2) return undefined;
      return {
        value: buf.toString("utf8", start, start + length),
        end: start + length + 2,
      };
    }
    case "*": {
      const count = Number(line);
      if (count < 0) return { value: null, end: eol + 2 };
      const items: unknown[] = [];
      let end = eol + 2;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, end);
        if (!item) return undefined;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      throw new Error(`not a RESP reply: ${JSON.stringify(line)}`);
  }
}

/** An error reply of Redis (`-ERR …`). */
export class RedisReplyError extends Error {}

/** One connection; commands sent at once are pipelined and answered in order. */
export class RespClient {
  readonly #socket: Socket;
  readonly #waiting: {
    resolve(v: unknown): void;
    reject(e: Error): void;
  }[] = [];
  #buffer: Buffer = Buffer.alloc(0);

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Buffer) => this.#receive(chunk));
    socket.on("close", () => {
      for (const w of this.#waiting.splice(0)) {
        w.reject(new Error("Redis connection closed"));
      }
    });
    socket.on("error", () => {});
  }

  /** Connects to Redis on 127.0.0.1:`port`. */
  static connect(port: number): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host: "127.0.0.1", port });
      socket.once("connect", () => {
        socket.setNoDelay(true);
        socket.off("error", reject);
        resolve(new RespClient(socket));
      });
      socket.once("error", reject);
    });
  }

  /** The `send` of {@linkcode RedisTokenStore}: one command, its reply. */
  readonly send: RedisSend = (args) =>
    new Promise((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      const parts = [`*${args.length}\r\n`];
      for (const arg of args) {
        parts.push(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
      }
      this.#socket.write(parts.join(""));
    });

  /** Closes the connection. */
  close(): void {
    this.#socket.destroy();
  }

  #receive(chunk: Buffer): void {
    this.#buffer = this.#buffer.length
      ? Buffer.concat([this.#buffer, chunk])
      : chunk;
    let at = 0;
    for (;;) {
      const reply = at < this.#buffer.length
        ? parseReply(this.#buffer, at)
        : undefined;
      if (!reply) break;
      at = reply.end;
      const waiter = this.#waiting.shift();
      if (reply.value instanceof RedisReplyError) waiter?.reject(reply.value);
      else waiter?.resolve(reply.value);
    }
    this.#buffer = this.#buffer.subarray(at);
  }
}
