/**
 * One member of a fleet (see `fleet.ts`): a process with its own CartoAuth
 * over a shared store. It says `ready`, waits for a line on stdin, then makes
 * `calls` concurrent calls of getAccessToken (and getCartoDwCredentials) and
 * prints what it got as one JSON line.
 *
 *   deno run -A tests/fleet_child.ts '<FleetChildConfig as JSON>'
 *   bun tests/fleet_child.ts '<FleetChildConfig as JSON>'
 */
import { createInterface } from "node:readline";
import process from "node:process";
import {
  CartoAuth,
  type DenoKv,
  DenoKVTokenStore,
  FileTokenStore,
  type LeaseOptions,
  MemoryTokenStore,
  RedisTokenStore,
  type TokenStore,
} from "../mod.ts";
import type { Endpoints } from "../src/endpoints.ts";
import { RespClient } from "./redis_server.ts";

/** What a member is told. */
export interface FleetChildConfig {
  store:
    | { kind: "redis"; port: number; prefix: string; lease?: LeaseOptions }
    | { kind: "deno-kv"; path: string; lease?: LeaseOptions }
    | { kind: "file"; dir: string }
    | { kind: "memory" };
  mode: "m2m" | "oauth";
  endpoints: Endpoints;
  apiBaseUrl: string;
  clientId?: string;
  clientSecret?: string;
  /** Concurrent calls of each kind. */
  calls: number;
  /** Also ask for DW credentials. */
  dw: boolean;
  /** Then time this many warm getAccessToken calls. */
  warmCalls?: number;
}

/** What a member prints. */
export interface FleetChildResult {
  tokens: string[];
  dwTokens: string[];
  /** Milliseconds from "go" to each getAccessToken's answer, in call order. */
  latencies: number[];
  /** The same for getCartoDwCredentials. */
  dwLatencies: number[];
  /**
   * When the first getAccessToken and getCartoDwCredentials answered (Unix
   * ms): how long after the member that renewed the others had the token.
   */
  firstAt?: number[];
  /** Calls to the store's engine, where counted (Redis, Deno KV, Durable Object). */
  storeCalls?: number;
  /** Microseconds per warm getAccessToken call. */
  warmMicros?: number;
}

/** Calls this member's store made to its engine (Redis commands, KV reads and commits). */
let storeCalls = 0;

async function openStore(
  config: FleetChildConfig["store"],
): Promise<{ store: TokenStore; close(): void }> {
  switch (config.kind) {
    case "redis": {
      const client = await RespClient.connect(config.port);
      const store = new RedisTokenStore((args) => {
        storeCalls++;
        return client.send(args);
      }, config);
      return { store, close: () => client.close() };
    }
    case "deno-kv": {
      const kv = await Deno.openKv(config.path);
      const counted: DenoKv = {
        get: (key) => (storeCalls++, kv.get(key)),
        set: (
          key,
          value,
          options,
        ) => (storeCalls++, kv.set(key, value, options)),
        delete: (key) => (storeCalls++, kv.delete(key)),
        atomic() {
          const op = kv.atomic();
          const commit = op.commit.bind(op);
          op.commit = () => (storeCalls++, commit());
          return op;
        },
      };
      const store = new DenoKVTokenStore(counted, config);
      return { store, close: () => kv.close() };
    }
    case "file":
      return {
        store: new FileTokenStore({ dir: config.dir, onWarning: () => {} }),
        close() {},
      };
    case "memory":
      return { store: new MemoryTokenStore(), close() {} };
  }
}

const config: FleetChildConfig = JSON.parse(process.argv[2]);
const { store, close } = await openStore(config.store);
const auth = new CartoAuth({
  mode: config.mode,
  apiBaseUrl: config.apiBaseUrl,
  clientId: config.clientId,
  clientSecret: config.clientSecret,
  endpoints: config.endpoints,
  store,
  openBrowser: false,
  prompt: () => Promise.reject(new Error("a fleet member never logs in")),
});

const lines = createInterface({ input: process.stdin });
const go = new Promise((resolve) => lines.once("line", resolve));
console.log("ready");
await go;
lines.close();

const started = performance.now();
const latencies: number[] = [];
const dwLatencies: number[] = [];
const firstAt: number[] = [];
const timed = async <T>(into: number[], call: () => Promise<T>): Promise<T> => {
  const value = await call();
  if (!into.length) firstAt[into === latencies ? 0 : 1] = Date.now();
  into.push(performance.now() - started);
  return value;
};
const [tokens, dw] = await Promise.all([
  Promise.all(
    Array.from(
      { length: config.calls },
      () => timed(latencies, () => auth.getAccessToken()),
    ),
  ),
  config.dw
    ? Promise.all(
      Array.from(
        { length: config.calls },
        () => timed(dwLatencies, () => auth.getCartoDwCredentials()),
      ),
    )
    : [],
]);
const calledStore = storeCalls;
let warmMicros: number | undefined;
if (config.warmCalls) {
  const t0 = performance.now();
  for (let i = 0; i < config.warmCalls; i++) await auth.getAccessToken();
  warmMicros = (performance.now() - t0) * 1000 / config.warmCalls;
}
const result: FleetChildResult = {
  tokens: [...new Set(tokens)],
  dwTokens: [...new Set(dw.map(([, token]) => token))],
  latencies,
  dwLatencies,
  firstAt,
  storeCalls: config.store.kind === "redis" || config.store.kind === "deno-kv"
    ? calledStore
    : undefined,
  warmMicros,
};
console.log(JSON.stringify(result));
close();
process.exit(0);
