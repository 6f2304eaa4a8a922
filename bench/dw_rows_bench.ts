/**
 * Streaming: `queryRows` over 20 pages of 1,000 rows from the fake CARTO,
 * with 50 ms of simulated network latency per BigQuery request and a
 * consumer that spends 50 ms on each page (as when writing rows elsewhere).
 * With the next page fetched while the current one is consumed, the run
 * takes about 20 × 50 ms plus one page; fetching only when a page is done
 * (the baseline below) takes about 40 × 50 ms. Heap use after each page
 * shows that memory stays flat: at most two pages are held.
 *
 *   ./node_modules/.bin/deno run -A --v8-flags=--expose-gc bench/dw_rows_bench.ts
 *   ./node_modules/.bin/bun bench/dw_rows_bench.ts
 */
import process from "node:process";
import { CartoAuth } from "../mod.ts";
import { compileRowsDecoder } from "../src/dw/decode.ts";
import type { QueryResponse } from "../src/dw/types.ts";
import { startFakeCarto } from "../src/testing/mod.ts";
import { BENCH_SCHEMA, benchRow } from "./dw_payload.ts";

const PAGES = 20;
const PAGE_ROWS = 1_000;
const LATENCY_MS = 50;
const CONSUME_MS = 50;
const SQL = "SELECT * FROM bench";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `fetch` with `LATENCY_MS` before every BigQuery request. */
const slowFetch: typeof fetch = async (input, init) => {
  const url = input instanceof Request ? input.url : String(input);
  if (url.includes("/bigquery/")) await sleep(LATENCY_MS);
  return fetch(input, init);
};

/** Forces a full collection where the runtime allows it (Deno/Node need --expose-gc). */
function collect(): boolean {
  const g = globalThis as {
    gc?: () => void;
    Bun?: { gc(force: boolean): void };
  };
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
  return !!(g.Bun || g.gc);
}

function heapMb(): number {
  collect();
  return process.memoryUsage().heapUsed / 1e6;
}

await using fake = await startFakeCarto();
fake.bigquery.setResult(SQL, {
  schema: BENCH_SCHEMA,
  rows: Array.from({ length: PAGES * PAGE_ROWS }, (_, i) => benchRow(i)),
});
const auth = await CartoAuth.fromM2M(fake.credentials, {
  endpoints: fake.endpoints,
  useCache: false,
});
const dw = await auth.getCartoDwClient({ fetch: slowFetch });

console.log(
  `${PAGES} pages × ${PAGE_ROWS} rows, ${LATENCY_MS} ms latency per request, ` +
    `${CONSUME_MS} ms of work per page`,
);

// Warm-up: one run so that both measured runs start with compiled code.
for await (const _ of dw.queryRows(SQL, { maxResults: PAGE_ROWS * 10 })) {
  // discard
}

// Timed run: nothing but the consumer's work between pages.
let start = performance.now();
let count = 0;
for await (const _row of dw.queryRows(SQL, { maxResults: PAGE_ROWS })) {
  if (++count % PAGE_ROWS === 0) await sleep(CONSUME_MS);
}
const prefetchMs = performance.now() - start;

// Memory run (not timed: a forced GC per page would count as work).
const heap: number[] = [];
const heapBefore = heapMb();
let seen = 0;
for await (const _row of dw.queryRows(SQL, { maxResults: PAGE_ROWS })) {
  if (++seen % PAGE_ROWS === 0) heap.push(heapMb() - heapBefore);
}
// For contrast: query() holds every row at once.
const all = await dw.query(SQL, { maxResults: PAGE_ROWS });
const queryHeap = heapMb() - heapBefore;
if (all.rows.length !== count) throw new Error("row counts differ");

// Baseline: the same pages, each fetched only after the previous one is consumed.
start = performance.now();
const decode = compileRowsDecoder(BENCH_SCHEMA);
const [projectId, token] = await auth.getCartoDwCredentials();
const base = `${fake.endpoints.bigquery}/projects/${projectId}/queries`;
const headers = { authorization: `Bearer ${token}` };
let page = await (await slowFetch(base, {
  method: "POST",
  headers: { ...headers, "content-type": "application/json" },
  body: JSON.stringify({
    query: SQL,
    useLegacySql: false,
    maxResults: PAGE_ROWS,
    formatOptions: { useInt64Timestamp: true },
  }),
})).json() as QueryResponse;
let baselineRows = 0;
for (;;) {
  baselineRows += decode(page.rows ?? []).length;
  await sleep(CONSUME_MS);
  if (!page.pageToken) break;
  const url = `${base}/${page.jobReference!.jobId}?pageToken=${
    encodeURIComponent(page.pageToken)
  }&maxResults=${PAGE_ROWS}&formatOptions.useInt64Timestamp=true`;
  page = await (await slowFetch(url, { headers })).json() as QueryResponse;
}
const sequentialMs = performance.now() - start;

const ideal = PAGES * Math.max(LATENCY_MS, CONSUME_MS);
console.log(
  `queryRows (prefetch):   ${
    prefetchMs.toFixed(0).padStart(6)
  } ms for ${count} rows ` +
    `(${PAGES} × ${Math.max(LATENCY_MS, CONSUME_MS)} ms = ${ideal} ms)`,
);
console.log(
  `sequential baseline:    ${
    sequentialMs.toFixed(0).padStart(6)
  } ms for ${baselineRows} rows ` +
    `(${2 * PAGES} × 50 ms = ${2 * ideal} ms)`,
);
console.log(
  `queryRows heap growth after each page (MB): ${
    heap.map((mb) => mb.toFixed(1)).join(" ")
  }`,
);
console.log(
  `query() heap growth holding all ${count} rows: ${queryHeap.toFixed(1)} MB` +
    (collect() ? "" : " (no gc() exposed: heap figures include garbage)"),
);
