/**
 * `onProgress` of `query` and `queryRows`: job state, elapsed time, bytes
 * processed, rows fetched and each retry with its reason; and the retry cap
 * the README promises (at most twice).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BigQueryError, type QueryProgress } from "../mod.ts";
import {
  bigqueryError,
  bigqueryRequests,
  dwFixture,
  QUICK,
} from "./dw_fixture.ts";
import { rejection } from "./rejection.ts";
import type { FakeResult } from "../src/testing/mod.ts";

const RESULT: FakeResult = {
  schema: [{ name: "i", type: "INTEGER", mode: "NULLABLE" }],
  rows: Array.from({ length: 7 }, (_, i) => ({ f: [{ v: String(i) }] })),
};

test("onProgress: PENDING, RUNNING while the job runs, DONE with bytes and rows, then rows fetched", async () => {
  await using f = await dwFixture();
  f.fake.bigquery.setResult("SELECT slow", RESULT, {
    pendingPolls: 2,
    pageSize: 3,
    totalBytesProcessed: 5_000_000,
  });
  const seen: QueryProgress[] = [];
  const { rows } = await f.dw.query("SELECT slow", {
    maxResults: 3,
    onProgress: (p) => seen.push(p),
  });
  assert.equal(rows.length, 7);
  const states = seen.map((p) => p.state);
  assert.equal(states[0], "PENDING");
  assert.ok(states.includes("RUNNING"), states.join());
  const done = seen.find((p) => p.state === "DONE")!;
  assert.equal(done.bytesProcessed, 5_000_000);
  assert.equal(done.totalRows, 7);
  assert.match(done.jobId ?? "", /\S/);
  // Rows fetched grow page by page: 3, 6, 7.
  assert.deepEqual(
    [...new Set(seen.map((p) => p.rowsFetched))].filter((n) => n > 0),
    [3, 6, 7],
  );
  // Elapsed time never goes back.
  for (let i = 1; i < seen.length; i++) {
    assert.ok(seen[i].elapsedMs >= seen[i - 1].elapsedMs);
  }
  assert.ok(seen.every((p) => p.retry === undefined));
});

test("onProgress reports each retry with its reason; queryRows reports too", async () => {
  await using f = await dwFixture();
  f.fake.failNext("bigquery", bigqueryError(503, "backendError"), 2);
  const seen: QueryProgress[] = [];
  const rows = [];
  for await (
    const row of f.dw.queryRows("SELECT 1 AS n", {
      onProgress: (p) => seen.push(p),
    })
  ) rows.push(row);
  assert.deepEqual(rows, [{ n: 1 }]);
  const retries = seen.filter((p) => p.retry).map((p) => p.retry!);
  assert.deepEqual(
    retries.map((r) => [r.attempt, r.retries, r.reason]),
    [[1, 2, "HTTP 503 backendError"], [2, 2, "HTTP 503 backendError"]],
  );
  assert.ok(retries.every((r) => r.delayMs >= 0));
  assert.equal(seen.at(-1)!.rowsFetched, 1);
});

test("a listener that throws does not break the query", async () => {
  await using f = await dwFixture();
  const { rows } = await f.dw.query("SELECT 1 AS n", {
    onProgress: () => {
      throw new Error("display broke");
    },
  });
  assert.deepEqual(rows, [{ n: 1 }]);
});

test("by default a transient failure is retried at most twice, as the README says", async () => {
  await using f = await dwFixture({ retry: QUICK.retry }); // no `retries`: the default
  f.fake.failNext("bigquery", bigqueryError(503, "backendError"), 3);
  const error = await rejection<BigQueryError>(f.dw.query("SELECT 1 AS n"));
  assert.ok(error instanceof BigQueryError);
  assert.match(error.message, /gave up after 3 attempts/);
  assert.equal(bigqueryRequests(f.fake).length, 3);
});
