/**
 * Streaming, in two parts.
 *
 * 1. Prefetch: `queryRows` over 20 pages of 1,000 rows from the fake CARTO,
 *    with 50 ms of simulated network latency per BigQuery request and a
 *    consumer that spends 50 ms on each page (as when writing rows
 *    elsewhere). With the next page fetched while the current one is
 *    consumed, the run takes about 20 × 50 ms plus one page; fetching only
 *    when a page is done (the baseline) takes about 40 × 50 ms.
 * 2. Memory: 300,000 rows in pages of about 10 MB of JSON, as BigQuery
 *    sends them, served from outside the JavaScript heap
 *    (bench/dw_pages_server.ts). The heap is measured at every page request
 *    and every 10,000 rows: live (after a forced collection) and as found
 *    (garbage included), the highest of each is printed. `queryRows()` holds at most about two pages of
 *    decoded rows whatever the result size; `query()` holds them all.
 *
 *   ./node_modules/.bin/deno run -A --v8-flags=--expose-gc bench/dw_rows_bench.ts
 *   ./node_modules/.bin/bun bench/dw_rows_bench.ts
 *
 * `… dw_rows_bench.ts prefetch` or `… memory` runs one part.
 */
import process from "node:process";
import { CartoAuth, CartoDwClient } from "../mod.ts";
import { compileRowsDecoder } from "../src/dw/decode.ts";
import type { QueryResponse } from "../src/dw/types.ts";
import { startFakeCarto } from "../src/testing/mod.ts";
import { startPageServer } from "./dw_pages_server.ts";
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
  if (g.Bun) { for (let i = 0; i < 3; i++) g.Bun.gc(true); }
  else g.gc?.();
  return !!(g.Bun || g.gc);
}

const heapUsed = () => process.memoryUsage().heapUsed;

/** `prefetch` or `memory` runs that part alone. */
const only = process.argv[2];

// --- 1. prefetch ---------------------------------------------------------

if (only !== "memory") {
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
    `1. ${PAGES} pages × ${PAGE_ROWS} rows, ${LATENCY_MS} ms latency per request, ` +
      `${CONSUME_MS} ms of work per page`,
  );
  // Warm-up: one run so that both measured runs start with compiled code.
  for await (const _ of dw.queryRows(SQL, { maxResults: PAGE_ROWS * 10 })) {
    // discard
  }
  let start = performance.now();
  let count = 0;
  for await (const _row of dw.queryRows(SQL, { maxResults: PAGE_ROWS })) {
    if (++count % PAGE_ROWS === 0) await sleep(CONSUME_MS);
  }
  const prefetchMs = performance.now() - start;

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
    `   queryRows (prefetch): ${
      prefetchMs.toFixed(0).padStart(6)
    } ms for ${count} rows (${PAGES} × ${
      Math.max(LATENCY_MS, CONSUME_MS)
    } ms = ${ideal} ms)`,
  );
  console.log(
    `   sequential baseline:  ${
      sequentialMs.toFixed(0).padStart(6)
    } ms for ${baselineRows} rows (${2 * PAGES} × 50 ms = ${2 * ideal} ms)`,
  );
}

// --- 2. memory -----------------------------------------------------------

const BIG_ROWS = 300_000;
const PAGE_TARGET_BYTES = 10e6;
if (only !== "prefetch") {
  const rows = Array.from({ length: BIG_ROWS }, (_, i) => benchRow(i));
  const middle = rows.slice(BIG_ROWS / 2, BIG_ROWS / 2 + 1_000);
  const rowBytes = JSON.stringify(middle).length / 1_000;
  const pageRows = Math.floor(PAGE_TARGET_BYTES / rowBytes);
  const server = await startPageServer(BENCH_SCHEMA, rows, pageRows);
  rows.length = 0; // the server holds the pages as bytes; drop the objects
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  console.log(
    `\n2. ${
      BIG_ROWS.toLocaleString("en-US")
    } rows in ${server.pageBytes.length} pages of ` +
      `${pageRows.toLocaleString("en-US")} rows (${
        mb(Math.max(...server.pageBytes))
      } MB of JSON each, ${
        mb(server.pageBytes.reduce((a, b) => a + b))
      } MB in all)`,
  );

  /** Heap samples of one run: live (after a collection) and as found, relative to before it. */
  const samples = { live: [] as number[], found: [] as number[] };
  let base = 0;
  const sample = (live: boolean) => {
    samples.found.push(heapUsed() - base);
    if (live) {
      collect();
      samples.live.push(heapUsed() - base);
    }
  };
  const dw = new CartoDwClient({
    credentials: () =>
      Promise.resolve({ projectId: server.projectId, token: "bench" }),
    endpoint: server.endpoint,
    fetch: (input, init) => {
      sample(true); // a page is being asked for: the held pages are all there
      return fetch(input, init);
    },
  });
  const run = async (name: string, body: () => Promise<number>) => {
    samples.live = [];
    samples.found = [];
    collect();
    base = heapUsed();
    const count = await body();
    if (count !== BIG_ROWS) throw new Error(`${name}: ${count} rows`);
    const max = (xs: number[]) => Math.max(...xs);
    console.log(
      `   ${name.padEnd(42)} peak heap ${
        mb(max(samples.live)).padStart(6)
      } MB live, ${mb(max(samples.found)).padStart(6)} MB as found`,
    );
    return max(samples.live);
  };
  const options = { maxResults: pageRows };
  // Warm-up: compiled decoder and code paths.
  for await (const _ of dw.queryRows(SQL, options)) {
    // discard
  }
  // One page, parsed and decoded, for scale.
  const text = await (await fetch(server.pageUrls[0], { method: "POST" }))
    .text();
  const { parsedHeap, pageHeap } = pageSizes(text, pageRows);
  console.log(
    `   one page: ${mb(pageHeap)} MB of decoded rows, ${
      mb(parsedHeap)
    } MB as parsed JSON`,
  );

  const streamed = await run(
    "queryRows(), rows dropped as they come",
    async () => {
      let count = 0;
      for await (const _row of dw.queryRows(SQL, options)) {
        // A consumer that writes rows elsewhere lets the event loop run,
        // and with it the prefetch of the next page.
        if (++count % 2_000 === 0) await sleep(0);
        if (count % 10_000 === 0) sample(true);
      }
      sample(true);
      console.log(
        `   queryRows() live heap every 10,000 rows (MB): ${
          samples.live.map((b) => (b / 1e6).toFixed(0)).join(" ")
        }`,
      );
      return count;
    },
  );
  const held = await run("query(), every row held", async () => {
    const { rows } = await dw.query(SQL, options);
    sample(true);
    return rows.length;
  });
  console.log(
    `   peak live heap in pages of decoded rows: queryRows() ${
      (streamed / pageHeap).toFixed(1)
    }, query() ${(held / pageHeap).toFixed(1)}` +
      (collect() ? "" : " (no gc() exposed: live figures include garbage)"),
  );
  await server.close();
}

/**
 * The heap taken by a page as parsed JSON and as decoded rows. In a function
 * of its own: an engine may keep a frame's temporaries alive until it returns.
 */
function pageSizes(
  text: string,
  rows: number,
): { parsedHeap: number; pageHeap: number } {
  const parsed = () => JSON.parse(text) as QueryResponse;
  collect();
  const before = heapUsed();
  const page = parsed();
  collect();
  const parsedHeap = heapUsed() - before;
  const decoded = decodeOnly(parsed);
  collect();
  const pageHeap = heapUsed() - before - parsedHeap;
  if (decoded.length !== rows || !page.rows) throw new Error("page size");
  return { parsedHeap, pageHeap };
}

function decodeOnly(parse: () => QueryResponse): unknown[] {
  return compileRowsDecoder(BENCH_SCHEMA)(parse().rows!);
}
