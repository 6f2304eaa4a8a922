import { test } from "node:test";
import assert from "node:assert/strict";
import { BigQueryError } from "../mod.ts";
import type { FakeResult } from "../src/testing/mod.ts";
import {
  bigqueryError,
  bigqueryRequests,
  dwFixture,
  QUICK,
} from "./dw_fixture.ts";
import { rejection } from "./rejection.ts";

const ONE_ROW: FakeResult = {
  schema: [{ name: "n", type: "INTEGER" }],
  rows: [{ f: [{ v: "1" }] }],
};

for (const status of [408, 429, 500, 502, 503, 504]) {
  test(`HTTP ${status} is retried with the same requestId`, async () => {
    await using f = await dwFixture();
    f.fake.failNext("bigquery", bigqueryError(status, "backendError"));
    const { rows } = await f.dw.query("SELECT 1 AS n");
    assert.deepEqual(rows, [{ n: 1 }]);
    const requests = bigqueryRequests(f.fake);
    assert.equal(requests.length, 2);
    assert.equal(requests[0].body.requestId, requests[1].body.requestId);
  });
}

for (
  const [status, reason] of [
    [403, "rateLimitExceeded"],
    [400, "backendError"],
    [400, "internalError"],
  ] as const
) {
  test(`reason ${reason} is retried even with HTTP ${status}`, async () => {
    await using f = await dwFixture();
    f.fake.failNext("bigquery", bigqueryError(status, reason), 2);
    const { rows } = await f.dw.query("SELECT 1 AS n");
    assert.deepEqual(rows, [{ n: 1 }]);
    assert.equal(bigqueryRequests(f.fake).length, 3);
  });
}

test("a retryable failure while reading a later page is retried", async () => {
  let failures = 1;
  const flaky: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.includes("pageToken=") && failures-- > 0) {
      const { status, body } = bigqueryError(503, "backendError");
      return Promise.resolve(Response.json(body, { status }));
    }
    return fetch(input, init);
  };
  await using f = await dwFixture({ fetch: flaky });
  f.fake.bigquery.setResult("SELECT * FROM t", {
    ...ONE_ROW,
    rows: [ONE_ROW.rows[0], ONE_ROW.rows[0]],
  });
  const { rows } = await f.dw.query("SELECT * FROM t", { maxResults: 1 });
  assert.deepEqual(rows, [{ n: 1 }, { n: 1 }]);
  assert.equal(failures, -1, "the page request failed once");
});

test("Retry-After is honoured", async () => {
  await using f = await dwFixture({
    retry: { initialDelayMs: 1, maxDelayMs: 2_000 },
  });
  f.fake.failNext("bigquery", {
    ...bigqueryError(429, "rateLimitExceeded"),
    headers: { "retry-after": "0.15" },
  });
  const start = Date.now();
  await f.dw.query("SELECT 1 AS n");
  assert.ok(Date.now() - start >= 140, `waited ${Date.now() - start} ms`);
});

test("retries are bounded: the last failure is reported with its reason", async () => {
  await using f = await dwFixture({ retry: { ...QUICK.retry, retries: 2 } });
  f.fake.failNext(
    "bigquery",
    bigqueryError(503, "backendError", "Backend error"),
    3,
  );
  const error = await rejection<BigQueryError>(f.dw.query("SELECT 1 AS n"));
  assert.ok(error instanceof BigQueryError);
  assert.equal(error.code, "server_error");
  assert.equal(error.status, 503);
  assert.deepEqual(error.reasons, ["backendError"]);
  assert.equal(
    error.message,
    "BigQuery query failed: HTTP 503 backendError: Backend error. (gave up after 3 attempts) Try again later.",
  );
  assert.equal(bigqueryRequests(f.fake).length, 3);
});

test("a query error is not retried and shows BigQuery's reason, message and position", async () => {
  await using f = await dwFixture();
  const sql = "SELECT n\nFROM FROM t";
  f.fake.bigquery.setError(sql, {
    message: "Syntax error: Unexpected keyword FROM at [2:6]",
  });
  const error = await rejection<BigQueryError>(f.dw.query(sql));
  assert.ok(error instanceof BigQueryError);
  assert.equal(error.code, "invalid_input");
  assert.equal(error.status, 400);
  assert.deepEqual(error.reasons, ["invalidQuery"]);
  assert.deepEqual(error.position, { line: 2, column: 6 });
  assert.equal(error.errors[0].location, "q");
  assert.equal(
    error.message,
    "BigQuery query failed: HTTP 400 invalidQuery: Syntax error: Unexpected keyword FROM at [2:6].\n" +
      "  FROM FROM t\n" +
      "       ^",
  );
  assert.equal(bigqueryRequests(f.fake).length, 1);
});

test("a missing table is a notFound error, not retried", async () => {
  await using f = await dwFixture();
  f.fake.bigquery.setError("SELECT * FROM ds.nope", {
    status: 404,
    reason: "notFound",
    message:
      "Not found: Table carto-dw-ac-fake:ds.nope was not found in location US",
  });
  const error = await rejection<BigQueryError>(
    f.dw.query("SELECT * FROM ds.nope"),
  );
  assert.equal(error.code, "invalid_input");
  assert.deepEqual(error.reasons, ["notFound"]);
  assert.equal(
    error.message,
    "BigQuery query failed: HTTP 404 notFound: Not found: Table carto-dw-ac-fake:ds.nope was not found in location US.",
  );
  assert.equal(bigqueryRequests(f.fake).length, 1);
});

test("accessDenied says to check the account's access", async () => {
  await using f = await dwFixture();
  f.fake.bigquery.setError("SELECT * FROM secret", {
    status: 403,
    reason: "accessDenied",
    message: "Access Denied: Table x:y.secret: User does not have permission",
  });
  const error = await rejection<BigQueryError>(
    f.dw.query("SELECT * FROM secret"),
  );
  assert.equal(error.code, "invalid_credentials");
  assert.equal(
    error.message,
    "BigQuery query failed: HTTP 403 accessDenied: Access Denied: Table x:y.secret: User does not have permission. " +
      "Check that the account may read the tables the query uses.",
  );
});

test("a quota error is not retried and says to try later", async () => {
  await using f = await dwFixture();
  f.fake.bigquery.setError("SELECT 1 AS n", {
    status: 403,
    reason: "quotaExceeded",
    message:
      "Quota exceeded: Your project exceeded quota for free query bytes scanned",
  });
  const error = await rejection<BigQueryError>(f.dw.query("SELECT 1 AS n"));
  assert.equal(error.code, "server_error");
  assert.deepEqual(error.reasons, ["quotaExceeded"]);
  assert.equal(
    error.message,
    "BigQuery query failed: HTTP 403 quotaExceeded: Quota exceeded: Your project exceeded quota for free query bytes scanned. Try again later.",
  );
  assert.equal(bigqueryRequests(f.fake).length, 1);
});

test("an answer that is not JSON is a bad_response error", async () => {
  await using f = await dwFixture();
  f.fake.failNext("bigquery", { status: 200, body: "<html>proxy</html>" });
  const error = await rejection<BigQueryError>(f.dw.query("SELECT 1 AS n"));
  assert.equal(error.code, "bad_response");
  assert.equal(
    error.message,
    `BigQuery query (${f.fake.endpoints.bigquery}/projects/${f.fake.dwProjectId}/queries) ` +
      "answered HTTP 200 with something that is not a JSON object. Check the BigQuery endpoint.",
  );
});

test("a 401 fetches fresh DW credentials once and retries", async () => {
  await using f = await dwFixture();
  const dwTokensBefore = f.fake.count("dwToken");
  f.fake.revokeDwTokens();
  const { rows } = await f.dw.query("SELECT 1 AS n");
  assert.deepEqual(rows, [{ n: 1 }]);
  assert.equal(f.fake.count("dwToken"), dwTokensBefore + 1);
  const [refused, accepted] = bigqueryRequests(f.fake);
  assert.notEqual(refused.authorization, accepted.authorization);
});

test("many queries refused at once renew the DW token once", async () => {
  await using f = await dwFixture();
  const before = f.fake.count("dwToken");
  f.fake.revokeDwTokens();
  const results = await Promise.all(
    Array.from({ length: 5 }, () => f.dw.query("SELECT 1 AS n")),
  );
  assert.equal(results.length, 5);
  assert.equal(f.fake.count("dwToken"), before + 1);
});

test("a 401 that persists with fresh credentials is invalid_credentials, without the token", async () => {
  await using f = await dwFixture();
  f.fake.failNext(
    "bigquery",
    bigqueryError(401, "authError", "Invalid Credentials"),
    2,
  );
  const error = await rejection<BigQueryError>(f.dw.query("SELECT 1 AS n"));
  assert.equal(error.code, "invalid_credentials");
  assert.equal(error.status, 401);
  assert.equal(
    error.message,
    "BigQuery query failed: HTTP 401 authError: Invalid Credentials. " +
      "BigQuery refused the CARTO Data Warehouse token even after a new one was fetched; " +
      "check that the account still has the CARTO Data Warehouse, or log in again.",
  );
  assert.doesNotMatch(error.message, /ya29/);
  assert.doesNotMatch(JSON.stringify(error), /ya29/);
});

test("the DW token is renewed once it is older than credentialsTtlMs", async () => {
  await using f = await dwFixture({ credentialsTtlMs: 30 });
  const before = f.fake.count("dwToken");
  await f.dw.query("SELECT 1 AS n");
  assert.equal(f.fake.count("dwToken"), before);
  await new Promise((resolve) => setTimeout(resolve, 40));
  await f.dw.query("SELECT 1 AS n");
  assert.equal(f.fake.count("dwToken"), before + 1);
  const statuses = f.fake.requests.filter((r) => r.route === "bigquery");
  assert.equal(statuses.length, 2, "no request was refused first");
});

test("a network failure is retried", async () => {
  let failures = 1;
  const flaky: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.includes("/bigquery/") && failures-- > 0) {
      return Promise.reject(new TypeError("connection reset"));
    }
    return fetch(input, init);
  };
  await using f = await dwFixture({ fetch: flaky });
  const { rows } = await f.dw.query("SELECT 1 AS n");
  assert.deepEqual(rows, [{ n: 1 }]);
});

test("a network failure on every attempt is a BigQueryError saying so", async () => {
  const down: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    return url.includes("/bigquery/")
      ? Promise.reject(new TypeError("connection refused"))
      : fetch(input, init);
  };
  await using f = await dwFixture({
    fetch: down,
    retry: { ...QUICK.retry, retries: 1 },
  });
  const error = await rejection<BigQueryError>(f.dw.query("SELECT 1 AS n"));
  assert.ok(error instanceof BigQueryError);
  assert.equal(error.code, "network");
  assert.match(
    error.message,
    /^Could not reach BigQuery query \(http:\/\/127\.0\.0\.1:\d+\/bigquery\/v2\/projects\/carto-dw-ac-fake\/queries\): connection refused\. Check your network connection\.$/,
  );
});

test("a request that times out on every attempt reports the timeout", async () => {
  await using f = await dwFixture({
    requestTimeoutMs: 20,
    retry: { ...QUICK.retry, retries: 1 },
  });
  f.fake.bigquery.setResult("SELECT * FROM slow", ONE_ROW, { delayMs: 300 });
  const error = await rejection<BigQueryError>(
    f.dw.query("SELECT * FROM slow", { timeoutMs: 1 }),
  );
  assert.ok(error instanceof BigQueryError);
  assert.equal(error.code, "timeout");
  assert.match(
    error.message,
    /^BigQuery query \(http:\/\/127\.0\.0\.1:\d+\/bigquery\/v2\/projects\/carto-dw-ac-fake\/queries\) did not answer within 21 ms\./,
  );
});

test("aborting while the job runs cancels it (jobs.cancel) and rejects", async () => {
  await using f = await dwFixture({ pollIntervalMs: 5 });
  f.fake.bigquery.setResult("SELECT * FROM forever", ONE_ROW, {
    pendingPolls: 1_000,
  });
  const controller = new AbortController();
  const query = f.dw.query("SELECT * FROM forever", {
    signal: controller.signal,
    location: "EU",
  });
  await waitFor(() => bigqueryRequests(f.fake).length >= 2); // polling
  controller.abort();
  const error = await rejection<BigQueryError>(query);
  const [jobId] = f.fake.bigquery.jobs.keys();
  assert.equal(error.code, "aborted");
  assert.equal(error.jobId, jobId);
  assert.equal(
    error.message,
    `The query was aborted. BigQuery job ${jobId} was cancelled.`,
  );
  assert.deepEqual(f.fake.bigquery.cancelled, [jobId]);
  assert.equal(f.fake.bigquery.jobs.get(jobId)?.state, "CANCELLED");
  const cancel = bigqueryRequests(f.fake).find((r) =>
    r.path.endsWith("/cancel")
  );
  assert.equal(cancel?.method, "POST");
  assert.equal(
    cancel?.path,
    `/bigquery/v2/projects/${f.fake.dwProjectId}/jobs/${jobId}/cancel`,
  );
  assert.equal(cancel?.query.get("location"), "EU");
});

test("aborting during jobs.query rejects at once and cancels the job when BigQuery names it", async () => {
  await using f = await dwFixture();
  f.fake.bigquery.setResult("SELECT * FROM slow_start", ONE_ROW, {
    pendingPolls: 5,
    delayMs: 300,
  });
  const controller = new AbortController();
  const start = Date.now();
  const query = f.dw.query("SELECT * FROM slow_start", {
    signal: controller.signal,
  });
  setTimeout(() => controller.abort(), 30);
  const error = await rejection<BigQueryError>(query);
  assert.ok(Date.now() - start < 250, "rejected before jobs.query answered");
  assert.equal(error.code, "aborted");
  assert.equal(error.message, "The query was aborted.");
  await waitFor(() => f.fake.bigquery.cancelled.length === 1);
  const [jobId] = f.fake.bigquery.jobs.keys();
  assert.deepEqual(f.fake.bigquery.cancelled, [jobId]);
});

test("an already aborted signal sends nothing", async () => {
  await using f = await dwFixture();
  const error = await rejection<BigQueryError>(
    f.dw.query("SELECT 1 AS n", { signal: AbortSignal.abort() }),
  );
  assert.equal(error.code, "aborted");
  assert.equal(bigqueryRequests(f.fake).length, 0);
});

test("aborting queryRows between pages rejects with aborted", async () => {
  await using f = await dwFixture();
  f.fake.bigquery.setResult("SELECT * FROM t", {
    ...ONE_ROW,
    rows: Array.from({ length: 10 }, () => ONE_ROW.rows[0]),
  });
  const controller = new AbortController();
  const rows = f.dw.queryRows("SELECT * FROM t", {
    maxResults: 2,
    signal: controller.signal,
  });
  await rows.next();
  await rows.next();
  controller.abort();
  const error = await rejection<BigQueryError>((async () => {
    for await (const _ of rows) { /* drain */ }
  })());
  assert.equal(error.code, "aborted");
});

async function waitFor(condition: () => boolean, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
