/**
 * Runs the example worker (`examples/cloudflare-worker`) in workerd through
 * miniflare, wired to a fake CARTO on 127.0.0.1. Used by the workerd tests
 * (`worker_workerd*.ts`) and the worker benchmarks (`bench/worker_*.ts`),
 * and a fleet of isolates bound to one Durable Object
 * (`worker_durable_object.ts`, `bench/fleet.ts`).
 */
import { readFile } from "node:fs/promises";
import { Miniflare } from "miniflare";
import type { CloudflareKVNamespace } from "../mod.ts";
import type { DurableObjectNamespaceLike } from "../cloudflare.ts";
import type { FleetChildResult } from "./fleet_child.ts";
import type { FakeCarto } from "../src/testing/mod.ts";
import {
  type BuildOptions,
  buildWorker,
  type BuiltWorker,
} from "../examples/cloudflare-worker/build.ts";

const exampleDir = new URL("../examples/cloudflare-worker/", import.meta.url);

/** The example's `compatibility_date`, so the tests run it as deployed. */
export async function compatibilityDate(): Promise<string> {
  const toml = await readFile(new URL("wrangler.toml", exampleDir), "utf8");
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  if (!date) throw new Error("wrangler.toml has no compatibility_date");
  if (/^\s*compatibility_flags\s*=.*nodejs_compat/m.test(toml)) {
    throw new Error("wrangler.toml must not enable nodejs_compat");
  }
  return date;
}

/** The worker's variables, pointing at `fake` (the names of every example). */
function fakeCartoBindings(fake: FakeCarto): Record<string, string> {
  return {
    CARTO_API_BASE_URL: fake.apiBaseUrl,
    CARTO_CLIENT_ID: fake.credentials.clientId,
    CARTO_CLIENT_SECRET: fake.credentials.clientSecret,
    CARTO_AUTH_URL: fake.endpoints.auth,
    CARTO_ACCOUNTS_URL: fake.endpoints.accounts,
    CARTO_BIGQUERY_URL: fake.endpoints.bigquery,
  };
}

const builds = new Map<string, Promise<BuiltWorker>>();

/** The worker bundled as wrangler would (cached per option set). */
export function built(options: BuildOptions = {}): Promise<BuiltWorker> {
  const key = JSON.stringify(options);
  let build = builds.get(key);
  if (!build) builds.set(key, build = buildWorker(options));
  return build;
}

/** Options of {@linkcode startWorker}. */
export interface WorkerOptions {
  /** Folder where KV keeps its data; instances given the same one share it. */
  kvPersist?: string;
  /** Bindings that replace the defaults (the fake's valid M2M client). */
  bindings?: Record<string, string>;
  /** How to bundle; default one unminified file. */
  build?: BuildOptions;
  /** A worker script (ES module) to run instead of the example. */
  script?: string;
  /** Bind TOKEN_STORE to the script's TokenStoreDurableObject (the example then uses it, not KV). */
  durableObject?: boolean;
}

/** Starts workerd with the example worker, its KV namespace `TOKENS` and bindings to `fake`. */
export async function startWorker(
  fake: FakeCarto,
  options: WorkerOptions = {},
): Promise<Miniflare> {
  const root = new URL("dist/", exampleDir).pathname;
  const modules = options.script
    ? [{
      type: "ESModule" as const,
      path: `${root}worker.js`,
      contents: options.script,
    }]
    : (await built(options.build)).files.map((f) => ({
      type: "ESModule" as const,
      path: f.path,
      contents: f.text,
    }));
  const mf = new Miniflare({
    modules,
    modulesRoot: root,
    compatibilityDate: await compatibilityDate(),
    kvNamespaces: ["TOKENS"],
    durableObjects: options.durableObject
      ? { TOKEN_STORE: "TokenStoreDurableObject" }
      : undefined,
    kvPersist: options.kvPersist ?? false,
    bindings: {
      ...fakeCartoBindings(fake),
      ...options.bindings,
    },
  });
  await mf.ready;
  return mf;
}

/** What the tests use of a KV namespace: the store's part plus `list`. */
export interface KVForTests extends CloudflareKVNamespace {
  list(options?: { prefix?: string }): Promise<{
    keys: { name: string; expiration?: number }[];
  }>;
}

/**
 * The worker's real KV namespace `TOKENS`, seen from outside workerd.
 * miniflare types it with `@cloudflare/workers-types`, which it does not
 * install; hence the cast to the structural type.
 */
export async function tokensKV(mf: Miniflare): Promise<KVForTests> {
  return (await mf.getKVNamespace("TOKENS")) as unknown as KVForTests;
}

const fleetEntry = new URL("./fleet_worker.ts", import.meta.url).pathname;

/** A worker fleet: see {@linkcode startWorkerFleet}. */
export interface WorkerFleet {
  mf: Miniflare;
  /** `GET /run?<query>` on isolate `i` (see `fleet_worker.ts`). */
  run(
    i: number,
    query: string,
    signal?: AbortSignal,
  ): Promise<FleetChildResult>;
  /** The object's namespace, seen from outside workerd. */
  namespace: DurableObjectNamespaceLike;
}

/**
 * `isolates` workers (`tests/fleet_worker.ts`, one isolate each) bound to
 * one TokenStoreDurableObject, which lives in a worker of its own.
 */
export async function startWorkerFleet(
  fake: FakeCarto,
  isolates: number,
  options: { leaseMs?: number; persist?: string } = {},
): Promise<WorkerFleet> {
  const modules = (await built({ entry: fleetEntry })).files.map((f) => ({
    type: "ESModule" as const,
    path: f.path,
    contents: f.text,
  }));
  const common = {
    modules,
    modulesRoot: new URL("dist/", exampleDir).pathname,
    compatibilityDate: await compatibilityDate(),
  };
  const mf = new Miniflare({
    durableObjectsPersist: options.persist ?? false,
    workers: [
      {
        ...common,
        name: "token-store",
        durableObjects: { TOKEN_STORE: "TokenStoreDurableObject" },
      },
      ...Array.from({ length: isolates }, (_, i) => ({
        ...common,
        name: `isolate-${i}`,
        durableObjects: {
          TOKEN_STORE: {
            className: "TokenStoreDurableObject",
            scriptName: "token-store",
          },
        },
        bindings: {
          ...fakeCartoBindings(fake),
          LEASE_MS: String(options.leaseMs ?? 2000),
        },
      })),
    ],
  });
  await mf.ready;
  return {
    mf,
    async run(i, query, signal) {
      // miniflare's types need @cloudflare/workers-types, not installed.
      const worker = (await mf.getWorker(`isolate-${i}`)) as unknown as {
        fetch(url: string, init?: RequestInit): Promise<Response>;
      };
      const res = await worker.fetch(`http://isolate.test/run?${query}`, {
        signal,
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`isolate ${i}: ${text}`);
      return JSON.parse(text);
    },
    namespace: (await mf.getDurableObjectNamespace(
      "TOKEN_STORE",
      "token-store",
    )) as unknown as DurableObjectNamespaceLike,
  };
}
