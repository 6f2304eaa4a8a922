/**
 * What the workerd test files share: the example worker and fake CARTOs,
 * stopped when the file's tests end, and JSON requests to the worker.
 */
import { after } from "node:test";
import assert from "node:assert/strict";
import type { Miniflare } from "miniflare";
import { type FakeCarto, startFakeCarto } from "../src/testing/mod.ts";
import { startWorker } from "./worker_miniflare.ts";

/** Starts workers and fake CARTOs; all of them stop after the calling file's tests. */
export function stoppedAfterTests(): {
  worker(
    fake: FakeCarto,
    options?: Parameters<typeof startWorker>[1],
  ): Promise<Miniflare>;
  fakeCarto(): Promise<FakeCarto>;
} {
  const running: { dispose(): Promise<void> }[] = [];
  after(async () => {
    for (const r of running.splice(0).reverse()) await r.dispose();
  });
  return {
    async worker(fake, options = {}) {
      const mf = await startWorker(fake, options);
      running.push(mf);
      return mf;
    },
    async fakeCarto() {
      const fake = await startFakeCarto();
      running.push({ dispose: () => fake.close() });
      return fake;
    },
  };
}

/** Sends a request to the worker and reads its JSON answer. */
export async function get(
  mf: Miniflare,
  path: string,
  init?: RequestInit,
) {
  // miniflare's own RequestInit type; a web-standard one fits it.
  const res = await mf.dispatchFetch(
    `http://worker.test${path}`,
    init as Parameters<Miniflare["dispatchFetch"]>[1],
  );
  const type = res.headers.get("content-type") ?? "";
  const text = await res.text();
  assert.match(type, /^application\/json/, `${path}: ${res.status} ${text}`);
  return { status: res.status, body: JSON.parse(text), text };
}

/** POSTs `body` as JSON, as the worker's SQL routes want it. */
export function post(
  mf: Miniflare,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): ReturnType<typeof get> {
  return get(mf, path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** `sql` for a URL's query string. */
export const q = (sql: string): string => encodeURIComponent(sql);
/** BigQuery rows as the REST API sends them. */
export const wireRows = (values: string[][]): { f: { v: string }[] }[] =>
  values.map((row) => ({ f: row.map((v) => ({ v })) }));
/** Unix seconds now. */
export const now = (): number => Math.floor(Date.now() / 1000);
