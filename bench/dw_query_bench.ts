/**
 * End to end: `query()` reading 300,000 rows in pages of about 10 MB of JSON
 * against the same pages fetched by hand with `fetch` + `res.json()` and
 * not decoded at all, both from a local server that holds the pages
 * serialized (bench/dw_pages_server.ts), so that the server's own work is
 * negligible. The difference is what the client costs on top of reading the
 * JSON: reading the body under a size cap, parsing, decoding every row,
 * paging. Goal (issue 10): ≤ 1.1×. The server runs in the same process: its
 * (small) share of the CPU time is in both figures.
 *
 *   ./node_modules/.bin/deno run -A bench/dw_query_bench.ts
 *   ./node_modules/.bin/bun bench/dw_query_bench.ts
 */
import { CartoDwClient } from "../mod.ts";
import { startPageServer } from "./dw_pages_server.ts";
import { BENCH_SCHEMA, benchRow } from "./dw_payload.ts";
import { bestTimes, runtimeName, type Times } from "./dw_timing.ts";

const ROWS = 300_000;
const PAGE_BYTES = 10e6;

const rows = Array.from({ length: ROWS }, (_, i) => benchRow(i));
const middle = rows.slice(ROWS / 2, ROWS / 2 + 1_000);
const pageRows = Math.floor(
  PAGE_BYTES / (JSON.stringify(middle).length / 1_000),
);
await using server = Object.assign(
  await startPageServer(BENCH_SCHEMA, rows, pageRows),
  { [Symbol.asyncDispose]: () => server.close() },
);
rows.length = 0;
const totalMb = server.pageBytes.reduce((a, b) => a + b) / 1e6;
console.log(
  `${
    ROWS.toLocaleString("en-US")
  } rows × ${BENCH_SCHEMA.length} columns in ${server.pageBytes.length} pages ` +
    `of ${pageRows.toLocaleString("en-US")} rows, ${
      totalMb.toFixed(1)
    } MB of JSON; ${runtimeName()}`,
);

const dw = new CartoDwClient({
  credentials: () =>
    Promise.resolve({ projectId: server.projectId, token: "bench" }),
  endpoint: server.endpoint,
});

/**
 * The pages one after the other as plain objects, undecoded: what any
 * client must at least do. `keep` holds every page's rows to the end, as
 * `query()` holds its rows (the collector then has them to trace too).
 */
async function fetchJson(keep: boolean): Promise<number> {
  const kept: unknown[][] = [];
  let count = 0;
  for (const [i, url] of server.pageUrls.entries()) {
    const res = await fetch(url, { method: i === 0 ? "POST" : "GET" });
    const page = await res.json() as { rows: unknown[] };
    count += page.rows.length;
    if (keep) kept.push(page.rows);
  }
  return count;
}

async function query(): Promise<number> {
  const { rows } = await dw.query("SELECT * FROM bench", {
    maxResults: pageRows,
  });
  return rows.length;
}

const t = await bestTimes(
  {
    kept: () => fetchJson(true),
    dropped: () => fetchJson(false),
    query,
  },
  7,
  (count) => {
    if (count !== ROWS) throw new Error(`read ${count} rows`);
  },
);
const line = (label: string, times: Times) =>
  console.log(
    `${label.padEnd(44)} ${times.cpu.toFixed(0).padStart(6)} ms CPU ${
      times.wall.toFixed(0).padStart(6)
    } ms wall  ${(totalMb / (times.wall / 1000)).toFixed(0).padStart(4)} MB/s`,
  );
line("fetch + res.json(), every page's rows kept", t.kept);
line("fetch + res.json(), each page dropped", t.dropped);
line("query(): paging, parsing, decoding", t.query);
const ratio = (base: Times) =>
  `${(t.query.cpu / base.cpu).toFixed(2)}× CPU, ${
    (t.query.wall / base.wall).toFixed(2)
  }× wall`;
console.log(
  `query() / fetch + res.json(): ${ratio(t.kept)} with the rows kept, ${
    ratio(t.dropped)
  } with them dropped (goal ≤ 1.1×)`,
);
