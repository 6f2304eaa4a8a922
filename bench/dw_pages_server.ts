/**
 * A BigQuery stand-in for the Data Warehouse benchmarks: it serves a result
 * as pages serialized once, held as bytes outside the JavaScript heap, so
 * that what a benchmark measures (heap, time) is the client's and not the
 * server's. `POST …/queries` answers the first page (schema, job, totals);
 * `GET …/queries/{job}?pageToken=…` the others, with only the fields a
 * `fields=jobComplete,pageToken,rows` request gets from BigQuery.
 */
import { runtimeServe } from "../src/runtime/serve.ts";
import type { WireRow } from "../src/dw/types.ts";
import type { FakeField } from "../src/testing/mod.ts";

/** A running page server. */
export interface PageServer {
  /** The BigQuery REST root to give the client (`endpoint`). */
  endpoint: string;
  /** The project id in its paths. */
  projectId: string;
  /** The URL of every page, in order, for clients that fetch them by hand. */
  pageUrls: string[];
  /** The size of every page's JSON, in bytes. */
  pageBytes: number[];
  close(): Promise<void>;
}

const PROJECT = "bench";
const JOB = "job_bench";

/** Serves `rows` of `schema` in pages of `pageRows` rows. */
export async function startPageServer(
  schema: FakeField[],
  rows: WireRow[],
  pageRows: number,
): Promise<PageServer> {
  const encoder = new TextEncoder();
  const pages: Uint8Array<ArrayBuffer>[] = [];
  for (let start = 0; start < rows.length || start === 0; start += pageRows) {
    const end = Math.min(rows.length, start + pageRows);
    const pageToken = end < rows.length ? `p${pages.length + 1}` : undefined;
    const page = start === 0
      ? {
        kind: "bigquery#queryResponse",
        schema: { fields: schema },
        jobReference: { projectId: PROJECT, jobId: JOB, location: "US" },
        totalRows: String(rows.length),
        rows: rows.slice(start, end),
        pageToken,
        totalBytesProcessed: "0",
        jobComplete: true,
        cacheHit: false,
      }
      : { jobComplete: true, pageToken, rows: rows.slice(start, end) };
    pages.push(encoder.encode(JSON.stringify(page)));
    if (end === rows.length) break;
  }
  const serve = await runtimeServe();
  const server = await serve({ hostname: "127.0.0.1", port: 0 }, (request) => {
    const url = new URL(request.url);
    const token = url.searchParams.get("pageToken");
    const index = request.method === "POST" ? 0 : Number(token?.slice(1));
    const page = pages[index];
    if (!page) return new Response("no such page", { status: 404 });
    return new Response(page, {
      headers: { "content-type": "application/json; charset=UTF-8" },
    });
  });
  const endpoint = `http://127.0.0.1:${server.port}/bigquery/v2`;
  const queries = `${endpoint}/projects/${PROJECT}/queries`;
  return {
    endpoint,
    projectId: PROJECT,
    pageUrls: pages.map((_, i) =>
      i === 0 ? queries : `${queries}/${JOB}?pageToken=p${i}`
    ),
    pageBytes: pages.map((p) => p.byteLength),
    close: () => server.close(),
  };
}
