/**
 * A fleet renewing one expired token, per store: processes (or workerd
 * isolates) × concurrent calls of getAccessToken and getCartoDwCredentials,
 * against a fake CARTO that answers every request `latency` ms late (a
 * distant Auth0). Prints, per store: token and DW token requests made (goal:
 * 1 each per fleet), cold-path p50/p99 from the go to each call's answer
 * (goal: the token request plus at most one store round trip), how long
 * after the member that renewed the last one had the token and the DW token
 * (the waiters' lag: how soon a released lease reaches them), the calls the
 * members made to the store's engine (Redis, Deno KV, Durable Object), and the warm
 * path, a getAccessToken with the token in memory (goal: ≤ 0.05 ms).
 *
 *   deno run -A --unstable-kv bench/fleet.ts [members=4] [calls=250] [latency=50]
 *
 * Needs redis-server (apt) for the Redis row; Deno KV members run in Deno.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CartoAuth,
  DenoKVTokenStore,
  FileTokenStore,
  RedisTokenStore,
  type StoredToken,
  type TokenStore,
} from "../mod.ts";
import { DurableObjectTokenStore } from "../cloudflare.ts";
import { type FakeCarto, startFakeCarto } from "../src/testing/mod.ts";
import {
  type FleetChildConfig,
  type FleetChildResult,
  startFleet,
} from "../tests/fleet.ts";
import { redisUnavailable, startRedis } from "../tests/redis_server.ts";
import { startWorkerFleet } from "../tests/worker_miniflare.ts";

const members = Number(Deno.args[0] ?? 4);
const calls = Number(Deno.args[1] ?? 250);
const latencyMs = Number(Deno.args[2] ?? 50);
const warmCalls = 200_000;

const now = () => Math.floor(Date.now() / 1000);
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
};
const median = (values: number[]) => percentile(values, 0.5);

/** Median of `runs` timed calls of `fn`, in ms. */
async function timeMedian(runs: number, fn: () => Promise<unknown>) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

function expired(fake: FakeCarto): StoredToken {
  return {
    accessToken: "expired-token",
    expiration: now() - 60,
    apiBaseUrl: fake.apiBaseUrl,
    clientId: fake.credentials.clientId,
  };
}

interface Row {
  store: string;
  fleet: string;
  tokens: number;
  dw: number;
  p50: number;
  p99: number;
  dwP50: number;
  warmMicros?: number;
  storeRtt?: number;
  /** The last member's first answer behind the first member's, token and DW (ms). */
  lag?: number[];
  /** Calls the members made to the store's engine, where counted. */
  storeCalls?: number;
}
const rows: Row[] = [];

/** What the fake has counted so far, to take differences. */
const counts = (
  fake: FakeCarto,
) => [fake.count("token"), fake.count("dwToken")];

function row(
  store: string,
  fleet: string,
  [tokens, dw]: number[],
  results: FleetChildResult[],
  storeRtt?: number,
) {
  const latencies = results.flatMap((r) => r.latencies);
  const dwLatencies = results.flatMap((r) => r.dwLatencies);
  const warm = results.map((r) => r.warmMicros).filter((w) => w !== undefined);
  const spread = (i: number) => {
    const at = results.map((r) => r.firstAt![i]);
    return Math.max(...at) - Math.min(...at);
  };
  rows.push({
    store,
    fleet,
    tokens,
    dw,
    p50: median(latencies),
    p99: percentile(latencies, 0.99),
    dwP50: median(dwLatencies),
    warmMicros: warm.length ? median(warm as number[]) : undefined,
    storeRtt,
    // Only a renewal has members waiting for another.
    lag: tokens && results.length > 1 ? [spread(0), spread(1)] : undefined,
    storeCalls: results.every((r) => r.storeCalls !== undefined)
      ? results.reduce((sum, r) => sum + r.storeCalls!, 0)
      : undefined,
  });
}

/** One fleet of processes over `store`, the test's view `view` of it. */
async function processes(
  name: string,
  size: number,
  open: () => Promise<{ config: FleetChildConfig["store"]; view: TokenStore }>,
) {
  await using fake = await startFakeCarto({ latencyMs });
  const { config, view } = await open();
  await view.set("m2m", expired(fake));
  // First over an expired token; then a new fleet over the fresh one it left.
  for (const when of WHEN) {
    const before = counts(fake);
    await using fleet = await startFleet({
      store: config,
      mode: "m2m",
      endpoints: fake.endpoints,
      ...fake.credentials,
      calls,
      dw: true,
      warmCalls,
    }, size);
    const results = await fleet.go();
    const made = counts(fake).map((n, i) => n - before[i]);
    const rtt = await timeMedian(50, () => view.get("m2m"));
    row(`${name}, ${when}`, `${size} processes × ${calls}`, made, results, rtt);
    if (size === 1) break; // one process shares nothing: no second fleet
  }
}

const WHEN = ["renewal", "cold start, fresh token"];

// The token request alone: what every cold path pays at least.
{
  await using fake = await startFakeCarto({ latencyMs });
  const tokenAlone = await timeMedian(10, () =>
    new CartoAuth({
      mode: "m2m",
      ...fake.credentials,
      endpoints: fake.endpoints,
      useCache: false,
    }).getAccessToken());
  console.log(
    `token request alone (no store): p50 ${tokenAlone.toFixed(1)} ms ` +
      `(fake CARTO answering ${latencyMs} ms late)\n`,
  );
}

await processes("MemoryTokenStore", 1, () =>
  Promise.resolve({
    config: { kind: "memory" },
    view: {
      get: () => Promise.resolve(undefined),
      set: () => Promise.resolve(),
      delete: () => Promise.resolve(),
    },
  }));

await processes("FileTokenStore", members, async () => {
  const dir = await mkdtemp(join(tmpdir(), "carto-auth-bench-"));
  return {
    config: { kind: "file", dir },
    view: new FileTokenStore({ dir, onWarning: () => {} }),
  };
});

const kvs: Deno.Kv[] = [];
await processes("DenoKVTokenStore", members, async () => {
  const path = join(await mkdtemp(join(tmpdir(), "carto-auth-bench-")), "kv");
  const kv = await Deno.openKv(path);
  kvs.push(kv);
  return { config: { kind: "deno-kv", path }, view: new DenoKVTokenStore(kv) };
});
for (const kv of kvs) kv.close();

if (redisUnavailable) {
  console.log(`RedisTokenStore: skipped, ${redisUnavailable}`);
} else {
  await using redis = await startRedis();
  const client = await redis.connect();
  await processes("RedisTokenStore", members, () =>
    Promise.resolve({
      config: { kind: "redis", port: redis.port, prefix: "carto-auth:" },
      view: new RedisTokenStore(client.send),
    }));
}

{
  await using fake = await startFakeCarto({ latencyMs });
  // The second runtime's isolates start cold over the object's storage.
  const persist = await mkdtemp(join(tmpdir(), "carto-auth-bench-"));
  for (const when of WHEN) {
    const fleet = await startWorkerFleet(fake, members, { persist });
    try {
      const view = new DurableObjectTokenStore(fleet.namespace);
      if (when === WHEN[0]) await view.set("m2m", expired(fake));
      const before = counts(fake);
      const results = await Promise.all(
        Array.from(
          { length: members },
          (_, i) => fleet.run(i, `calls=${calls}&dw=1`),
        ),
      );
      const made = counts(fake).map((n, i) => n - before[i]);
      // From outside workerd, through miniflare's proxy: an upper bound.
      const rtt = await timeMedian(50, () => view.get("m2m"));
      row(
        `DurableObjectTokenStore, ${when}`,
        `${members} isolates × ${calls}`,
        made,
        results,
        rtt,
      );
    } finally {
      await fleet.mf.dispose();
    }
  }
}

const fmt = (ms: number | undefined, digits = 1) =>
  ms === undefined ? "—" : ms.toFixed(digits);
console.log(
  "| store | fleet | token requests | DW token requests | cold token p50 ms | cold token p99 ms | cold DW p50 ms | waiters' lag token / DW ms | store calls | store get ms | warm µs/call |",
);
console.log(
  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
);
for (const r of rows) {
  console.log(
    `| ${r.store} | ${r.fleet} | ${r.tokens} | ${r.dw} | ${fmt(r.p50)} | ${
      fmt(r.p99)
    } | ${fmt(r.dwP50)} | ${
      r.lag ? r.lag.map((ms) => fmt(ms, 0)).join(" / ") : "—"
    } | ${r.storeCalls ?? "—"} | ${fmt(r.storeRtt, 2)} | ${
      fmt(r.warmMicros, 2)
    } |`,
  );
}
