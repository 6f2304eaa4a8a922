import { test } from "node:test";
import assert from "node:assert/strict";
import type { FakeResult } from "../src/testing/mod.ts";
import { bigqueryRequests, dwFixture } from "./dw_fixture.ts";

/** `count` rows of (n INTEGER, label STRING) in wire format. */
function numbers(count: number): FakeResult {
  return {
    schema: [
      { name: "n", type: "INTEGER", mode: "NULLABLE" },
      { name: "label", type: "STRING", mode: "NULLABLE" },
    ],
    rows: Array.from({ length: count }, (_, i) => ({
      f: [{ v: String(i) }, { v: `row ${i}` }],
    })),
  };
}

test("a one-page query is one jobs.query round trip with the documented request fields", async () => {
  await using f = await dwFixture({ labels: { team: "geo" } });
  const result = await f.dw.query("SELECT 1 AS n, 'a' AS s", {
    location: "EU",
    maxResults: 500,
    timeoutMs: 2_000,
    labels: { job: "test" },
    maximumBytesBilled: 10_000_000n,
    useQueryCache: false,
  });
  assert.deepEqual(result.rows, [{ n: 1, s: "a" }]);
  assert.equal(result.totalRows, 1);
  assert.equal(result.location, "EU");
  assert.equal(result.totalBytesProcessed, 1024);
  assert.equal(result.cacheHit, false);
  assert.deepEqual(result.schema.map((c) => [c.name, c.type]), [
    ["n", "INTEGER"],
    ["s", "STRING"],
  ]);
  const requests = bigqueryRequests(f.fake);
  assert.equal(requests.length, 1);
  const [{ method, path, body, authorization }] = requests;
  assert.equal(method, "POST");
  assert.equal(path, `/bigquery/v2/projects/${f.fake.dwProjectId}/queries`);
  assert.match(authorization ?? "", /^Bearer ya29\.fake-/);
  assert.equal(requests[0].query.get("prettyPrint"), "false");
  assert.equal(body.query, "SELECT 1 AS n, 'a' AS s");
  assert.equal(body.useLegacySql, false);
  assert.deepEqual(body.formatOptions, { useInt64Timestamp: true });
  assert.match(String(body.requestId), /^[0-9a-f-]{36}$/);
  assert.equal(body.jobCreationMode, "JOB_CREATION_OPTIONAL");
  assert.equal(body.location, "EU");
  assert.equal(body.maxResults, 500);
  assert.equal(body.timeoutMs, 2_000);
  assert.deepEqual(body.labels, { team: "geo", job: "test" });
  assert.equal(body.maximumBytesBilled, "10000000");
  assert.equal(body.useQueryCache, false);
});

test("a short query runs without a job: queryId, no jobId", async () => {
  await using f = await dwFixture();
  const result = await f.dw.query("SELECT 2 AS n");
  assert.deepEqual(result.rows, [{ n: 2 }]);
  assert.equal(result.jobId, undefined);
  assert.match(result.queryId ?? "", /^query_/);
  assert.equal(f.fake.bigquery.jobs.size, 0);
});

test("jobCreationMode JOB_CREATION_REQUIRED gives a job id", async () => {
  await using f = await dwFixture();
  const result = await f.dw.query("SELECT 2 AS n", {
    jobCreationMode: "JOB_CREATION_REQUIRED",
  });
  assert.match(result.jobId ?? "", /^job_/);
  assert.equal(result.location, "US");
  assert.ok(f.fake.bigquery.jobs.has(result.jobId!));
});

test("a multi-page result is read page by page; later pages ask for fields= without the schema", async () => {
  await using f = await dwFixture();
  f.fake.bigquery.setResult("SELECT * FROM numbers", numbers(25));
  const result = await f.dw.query("SELECT * FROM numbers", { maxResults: 10 });
  assert.equal(result.rows.length, 25);
  assert.deepEqual(result.rows[0], { n: 0, label: "row 0" });
  assert.deepEqual(result.rows[24], { n: 24, label: "row 24" });
  assert.deepEqual(
    result.rows.map((r) => r.n),
    Array.from({ length: 25 }, (_, i) => i),
  );
  assert.equal(result.totalRows, 25);
  assert.match(result.jobId ?? "", /^job_/);
  const requests = bigqueryRequests(f.fake);
  assert.equal(requests.length, 3);
  for (const later of requests.slice(1)) {
    assert.equal(later.method, "GET");
    assert.equal(
      later.path,
      `/bigquery/v2/projects/${f.fake.dwProjectId}/queries/${result.jobId}`,
    );
    assert.ok(later.query.get("pageToken"));
    assert.equal(later.query.get("maxResults"), "10");
    assert.equal(later.query.get("location"), "US");
    assert.equal(later.query.get("formatOptions.useInt64Timestamp"), "true");
    assert.equal(later.query.get("fields"), "jobComplete,pageToken,rows");
  }
});

test("BigQuery's own page limit splits results the client did not ask to split", async () => {
  await using f = await dwFixture();
  f.fake.bigquery.setResult("SELECT * FROM numbers", numbers(7), {
    pageSize: 3,
  });
  const { rows } = await f.dw.query("SELECT * FROM numbers");
  assert.deepEqual(rows.map((r) => r.n), [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(bigqueryRequests(f.fake).length, 3);
});

test("an incomplete job is polled with getQueryResults until it is complete", async () => {
  await using f = await dwFixture();
  f.fake.bigquery.setResult("SELECT * FROM slow", numbers(3), {
    pendingPolls: 2,
  });
  const result = await f.dw.query("SELECT * FROM slow", { timeoutMs: 500 });
  assert.deepEqual(result.rows.map((r) => r.n), [0, 1, 2]);
  assert.match(result.jobId ?? "", /^job_/);
  const requests = bigqueryRequests(f.fake);
  // jobs.query (incomplete), two polls still incomplete, one with the rows.
  assert.equal(requests.length, 4);
  for (const poll of requests.slice(1)) {
    assert.equal(poll.method, "GET");
    assert.equal(poll.query.get("timeoutMs"), "500");
    assert.equal(poll.query.get("formatOptions.useInt64Timestamp"), "true");
    assert.equal(poll.query.get("pageToken"), null);
    assert.equal(poll.query.get("fields"), null); // the schema comes with the first page
  }
  assert.equal(f.fake.bigquery.jobs.get(result.jobId!)?.state, "DONE");
});

test("an incomplete job with several pages is polled and then paged", async () => {
  await using f = await dwFixture();
  f.fake.bigquery.setResult("SELECT * FROM slow", numbers(5), {
    pendingPolls: 1,
  });
  const { rows } = await f.dw.query("SELECT * FROM slow", { maxResults: 2 });
  assert.deepEqual(rows.map((r) => r.n), [0, 1, 2, 3, 4]);
});

test("queryRows yields every row of every page, in order", async () => {
  await using f = await dwFixture();
  f.fake.bigquery.setResult("SELECT * FROM numbers", numbers(23));
  const seen: unknown[] = [];
  for await (
    const row of f.dw.queryRows("SELECT * FROM numbers", { maxResults: 5 })
  ) {
    seen.push(row.n);
  }
  assert.deepEqual(seen, Array.from({ length: 23 }, (_, i) => i));
  assert.equal(bigqueryRequests(f.fake).length, 5);
});

test("queryRows asks for the next page before the current one is consumed", async () => {
  await using f = await dwFixture();
  f.fake.bigquery.setResult("SELECT * FROM numbers", numbers(6));
  const rows = f.dw.queryRows("SELECT * FROM numbers", { maxResults: 2 });
  const first = await rows.next();
  assert.deepEqual(first.value, { n: 0, label: "row 0" });
  // Page 1 is being consumed; page 2 has been requested already, page 3 not.
  await waitFor(() => bigqueryRequests(f.fake).length === 2);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(bigqueryRequests(f.fake).length, 2);
  await rows.return();
});

test("leaving queryRows early stops fetching pages", async () => {
  await using f = await dwFixture();
  f.fake.bigquery.setResult("SELECT * FROM numbers", numbers(50));
  let count = 0;
  for await (
    const _ of f.dw.queryRows("SELECT * FROM numbers", { maxResults: 5 })
  ) {
    if (++count === 7) break;
  }
  await new Promise((resolve) => setTimeout(resolve, 20));
  // First page, second page, and at most the prefetch of the third.
  assert.ok(bigqueryRequests(f.fake).length <= 3);
});

test("queryRows().meta() gives the schema and totals before the rows are read", async () => {
  await using f = await dwFixture();
  f.fake.bigquery.setResult("SELECT * FROM numbers", numbers(7));
  const stream = f.dw.queryRows("SELECT * FROM numbers", { maxResults: 3 });
  const meta = await stream.meta();
  assert.deepEqual(meta.schema.map((c) => c.name), ["n", "label"]);
  assert.equal(meta.totalRows, 7);
  assert.match(meta.jobId ?? "", /^job_/);
  const seen = [];
  for await (const row of stream) seen.push(row.n);
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(await stream.meta(), await stream.meta(), "one run");
  assert.equal(
    bigqueryRequests(f.fake).filter((r) => r.method === "POST").length,
    1,
  );
});

test("queryRows with a wrong parameter rejects when read, not when called", async () => {
  await using f = await dwFixture();
  const stream = f.dw.queryRows("SELECT @x AS x", { params: { x: null } });
  await assert.rejects(stream.next(), {
    name: "BigQueryError",
    message: /^The value of query parameter "x" is null/,
  });
  await assert.rejects(stream.meta(), { name: "BigQueryError" });
});

test("queryRows of a short query yields its rows", async () => {
  await using f = await dwFixture();
  const rows = [];
  for await (const row of f.dw.queryRows("SELECT 1 AS a, 'b' AS b")) {
    rows.push(row);
  }
  assert.deepEqual(rows, [{ a: 1, b: "b" }]);
});

test("dryRun returns bytes processed and schema, and sends dryRun: true", async () => {
  await using f = await dwFixture();
  f.fake.bigquery.setResult("SELECT * FROM numbers", numbers(4), {
    totalBytesProcessed: 123456789,
  });
  const result = await f.dw.dryRun("SELECT * FROM numbers");
  assert.deepEqual(result, {
    totalBytesProcessed: 123456789,
    schema: numbers(0).schema,
  });
  const [request] = bigqueryRequests(f.fake);
  assert.equal(request.body.dryRun, true);
  assert.equal(request.body.useLegacySql, false);
  assert.equal(f.fake.bigquery.jobs.size, 0);
});

test("dryRun of a wrong query is a BigQueryError with the position", async () => {
  await using f = await dwFixture();
  const error = await f.dw.dryRun("SELEC 1").then(() => undefined, (e) => e);
  assert.equal(error?.name, "BigQueryError");
  assert.match(
    error.message,
    /^BigQuery dry run failed: HTTP 400 invalidQuery: Syntax error/,
  );
  assert.deepEqual(error.position, { line: 1, column: 1 });
});

test("project is the DW project id", async () => {
  await using f = await dwFixture();
  assert.equal(f.dw.project, f.fake.dwProjectId);
});

test("a query result with no rows has an empty rows array and its schema", async () => {
  await using f = await dwFixture();
  f.fake.bigquery.setResult("SELECT * FROM empty", numbers(0));
  const result = await f.dw.query("SELECT * FROM empty");
  assert.deepEqual(result.rows, []);
  assert.equal(result.totalRows, 0);
  assert.equal(result.schema.length, 2);
});

async function waitFor(condition: () => boolean, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
