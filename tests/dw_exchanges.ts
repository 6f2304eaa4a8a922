/**
 * Every kind of call the DW client makes — each option, each parameter type,
 * paging, polling, dry run, cancel, retries — run against the fake CARTO,
 * with what went over the wire, for the conformance tests.
 */
import type { FakeResult } from "../src/testing/mod.ts";
import type { HttpCall } from "./discovery.ts";
import { bigqueryError, dwFixture } from "./dw_fixture.ts";

/** One exchange with BigQuery as the transport saw it. */
export interface Exchange extends HttpCall {
  status: number;
  answer: unknown;
}

/** A transport that records BigQuery exchanges (it does not change them). */
function recordingFetch(log: Exchange[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!url.pathname.startsWith("/bigquery/")) return response;
    const text = await response.text();
    log.push({
      method: init?.method ?? "GET",
      url,
      body: typeof init?.body === "string" ? JSON.parse(init.body) : undefined,
      status: response.status,
      answer: text ? JSON.parse(text) : undefined,
    });
    return new Response(text, response);
  };
}

const NUMBERS: FakeResult = {
  schema: [
    { name: "n", type: "INTEGER", mode: "NULLABLE" },
    { name: "at", type: "TIMESTAMP", mode: "NULLABLE" },
  ],
  rows: Array.from({ length: 7 }, (_, i) => ({
    f: [{ v: String(i) }, { v: String(1712609904434123 + i) }],
  })),
};

const AT = new Date("2024-04-08T20:58:24.434Z");

/** Every parameter type the client encodes, inferred and given. */
export const PARAMS: {
  params: Record<string, unknown>;
  types: Record<string, string>;
} = {
  params: {
    int: 42,
    big: 9007199254740993n,
    intText: "12",
    float: 2.5,
    nan: NaN,
    inf: -Infinity,
    numeric: "1.25",
    bignumeric: 10n ** 40n,
    bool: true,
    text: "it's",
    bytes: new Uint8Array([0, 1, 254, 255]),
    at: AT,
    atText: "2024-04-08 20:58:24.434123+00:00",
    day: AT,
    civil: AT,
    time: "12:30:00.5",
    geo: "POINT(1 2)",
    interval: "1-2 3 4:5:6",
    doc: { a: [1, "x"] },
    ints: [1, 2, 3],
    empty: [],
    none: null,
    point: { x: 1.5, tags: ["a"], inner: { ok: false } },
    points: [{ x: 1 }, { x: 2 }],
    pair: { a: 1, b: "x" },
    dates: { start: "2024-01-01", end: null },
    civils: { start: null, end: "2024-01-01T00:00:00" },
    instants: { start: AT, end: AT },
  },
  types: {
    intText: "INT64",
    numeric: "NUMERIC",
    bignumeric: "BIGNUMERIC",
    atText: "TIMESTAMP",
    day: "DATE",
    civil: "DATETIME",
    time: "TIME",
    geo: "GEOGRAPHY",
    interval: "INTERVAL",
    doc: "JSON",
    empty: "ARRAY<INT64>",
    none: "STRING",
    dates: "RANGE<DATE>",
    civils: "RANGE<DATETIME>",
    instants: "RANGE<TIMESTAMP>",
  },
};

/** Runs every kind of call the client makes and returns what went over the wire. */
async function everyCall(): Promise<Exchange[]> {
  const log: Exchange[] = [];
  await using f = await dwFixture({
    fetch: recordingFetch(log),
    labels: { team: "geo" },
    location: "EU",
  });
  const { dw, fake } = f;
  fake.bigquery.setResult("SELECT * FROM numbers", NUMBERS);
  fake.bigquery.setResult("SELECT * FROM slow", NUMBERS, { pendingPolls: 2 });
  fake.bigquery.setResult("SELECT * FROM forever", NUMBERS, {
    pendingPolls: 1_000,
  });

  // Every option of jobs.query, each maximumBytesBilled form.
  for (const maximumBytesBilled of [10_000_000, 10_000_000n, "10000000"]) {
    await dw.query("SELECT 1 AS n", {
      location: "US",
      maxResults: 500,
      timeoutMs: 2_000,
      labels: { job: "test", "ünï-cödé_1": "" },
      maximumBytesBilled,
      useQueryCache: false,
      jobCreationMode: "JOB_CREATION_REQUIRED",
      int64: "bigint",
    });
  }
  // Named parameters of every type, then positional ones.
  const sql = `SELECT ${
    Object.keys(PARAMS.params).map((name) => `@${name} AS ${name}`).join(", ")
  }`;
  await dw.query(sql, { ...PARAMS, int64: "string" });
  await dw.query("SELECT ? AS a, ? AS b, ? AS c", {
    params: [1, "x", null],
    types: [undefined, undefined, "DATE"],
  });
  // Paging (given and default page sizes), streaming, polling.
  await dw.query("SELECT * FROM numbers", { maxResults: 2 });
  for await (
    const _ of dw.queryRows("SELECT * FROM numbers", { maxResults: 3 })
  ) {
    // read to the end
  }
  await dw.query("SELECT * FROM slow", { timeoutMs: 100, maxResults: 4 });
  await dw.query("SELECT * FROM slow");
  // Dry run.
  await dw.dryRun("SELECT * FROM numbers", { maximumBytesBilled: 1 });
  // Cancel: abort while the job runs.
  const controller = new AbortController();
  const cancelled = dw.query("SELECT * FROM forever", {
    signal: controller.signal,
  });
  while (!log.some((e) => e.method === "GET")) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  controller.abort();
  await cancelled.catch(() => {});
  // Retries: a transient failure, a refused token, a failing page.
  fake.failNext("bigquery", bigqueryError(503, "backendError"));
  await dw.query("SELECT 1 AS n");
  fake.failNext("bigquery", bigqueryError(401, "authError"));
  await dw.query("SELECT 1 AS n");
  fake.failNext(
    "bigquery",
    bigqueryError(500, "internalError"),
    1,
    (r) => r.method === "GET",
  );
  await dw.query("SELECT * FROM numbers", { maxResults: 3 });
  return log;
}

let recorded: Promise<Exchange[]> | undefined;
/** The exchanges of {@linkcode everyCall}, made once per test file. */
export const calls = (): Promise<Exchange[]> => recorded ??= everyCall();

/** A jobs.query with parameters and a later page, as the client sent them. */
export async function samples(): Promise<{ query: Exchange; page: Exchange }> {
  const exchanges = await calls();
  const query = exchanges.find((e) =>
    e.method === "POST" &&
    (e.body as { queryParameters?: unknown })?.queryParameters
  )!;
  const page = exchanges.find((e) => e.url.searchParams.has("pageToken"))!;
  return { query, page };
}
