/**
 * Page sizes: results paged the way BigQuery pages them, whatever their size
 * in JSON, are read completely; without maxResults the client keeps pages
 * small by itself; an answer no BigQuery page can be is refused before it
 * fills memory.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { FakeResult } from "../src/testing/mod.ts";
import { BENCH_SCHEMA, benchRow } from "../bench/dw_payload.ts";
import { bigqueryRequests, dwFixture } from "./dw_fixture.ts";

const MB = 1e6;

/** A transport that records the size of every BigQuery answer (the client's own code is not touched). */
function measuringFetch(sizes: number[]): typeof fetch {
  return async (input, init) => {
    const response = await fetch(input, init);
    const url = input instanceof Request ? input.url : String(input);
    if (!url.includes("/bigquery/")) return response;
    const body = await response.arrayBuffer();
    sizes.push(body.byteLength);
    return new Response(body, response);
  };
}

/** `count` rows of (i INTEGER, text STRING) whose text is `width` characters. */
function wideRows(count: number, width: number): FakeResult {
  const text = "x".repeat(width);
  return {
    schema: [
      { name: "i", type: "INTEGER", mode: "NULLABLE" },
      { name: "text", type: "STRING", mode: "NULLABLE" },
    ],
    rows: Array.from({ length: count }, (_, i) => ({
      f: [{ v: String(i) }, { v: text }],
    })),
  };
}

test("a 100,000-row result asked for in one page (27 MB of JSON) is read completely by query() and queryRows()", async () => {
  const sizes: number[] = [];
  await using f = await dwFixture({ fetch: measuringFetch(sizes) });
  const SQL = "SELECT * FROM one_page";
  const ROWS = 100_000;
  f.fake.bigquery.setResult(SQL, {
    schema: BENCH_SCHEMA,
    rows: Array.from({ length: ROWS }, (_, i) => benchRow(i)),
  });

  const { rows, totalRows } = await f.dw.query(SQL, { maxResults: ROWS });
  assert.equal(rows.length, ROWS);
  assert.equal(totalRows, ROWS);
  assert.equal(rows[ROWS - 1].id, 1_000_000 + ROWS - 1);
  assert.deepEqual(rows[ROWS - 1].tags, [ROWS - 1, ROWS, 2 * (ROWS - 1)]);
  assert.equal(sizes.length, 1, "one answer");
  assert.ok(sizes[0] > 25 * MB, `a page of ${sizes[0]} bytes`);

  let count = 0, last: unknown;
  for await (const row of f.dw.queryRows(SQL, { maxResults: ROWS })) {
    count++;
    last = row.id;
  }
  assert.equal(count, ROWS);
  assert.equal(last, 1_000_000 + ROWS - 1);
  assert.equal(sizes.length, 2, "one answer again");
});

test("40 MB pages, as BigQuery sends wide rows, are read completely by query() and queryRows()", async () => {
  const sizes: number[] = [];
  await using f = await dwFixture({ fetch: measuringFetch(sizes) });
  const SQL = "SELECT * FROM wide";
  // 1,000 rows of 40 KB per page: what BigQuery's 20 MB-of-data limit lets through.
  f.fake.bigquery.setResult(SQL, wideRows(2_050, 40_000), { pageSize: 1_000 });

  const { rows } = await f.dw.query(SQL, { maxResults: 100_000 });
  assert.deepEqual(rows.map((r) => r.i), [...Array(2_050).keys()]);
  assert.equal((rows[2_049].text as string).length, 40_000);
  assert.equal(sizes.length, 3);
  assert.ok(sizes[0] > 40 * MB && sizes[1] > 40 * MB, `pages: ${sizes}`);

  let count = 0;
  for await (const row of f.dw.queryRows(SQL, { maxResults: 100_000 })) {
    assert.equal(row.i, count++);
  }
  assert.equal(count, 2_050);
  assert.equal(sizes.length, 6);
});

test("without maxResults the first page asks for 10,000 rows and later pages for about 8 MiB of JSON", async () => {
  const sizes: number[] = [];
  await using f = await dwFixture({ fetch: measuringFetch(sizes) });
  const SQL = "SELECT * FROM wide";
  f.fake.bigquery.setResult(SQL, wideRows(30_000, 1_000));

  const { rows } = await f.dw.query(SQL);
  assert.equal(rows.length, 30_000);
  assert.equal(rows[29_999].i, 29_999);
  const requests = bigqueryRequests(f.fake);
  assert.equal(requests[0].body.maxResults, 10_000);
  const later = requests.slice(1).map((r) => Number(r.query.get("maxResults")));
  // ≈ 1,040 bytes of JSON per row: 8 MiB / 1,040 ≈ 8,066 rows.
  for (const max of later) assert.ok(max > 7_800 && max < 8_300, `${later}`);
  assert.equal(requests.length, 4, "10,000 + 3 pages of about 8,066");
  assert.ok(sizes.slice(1).every((s) => s < 8.5 * 2 ** 20), `${sizes}`);
});

test("without maxResults, narrow rows come in fewer, larger pages than 10,000 rows", async () => {
  await using f = await dwFixture();
  const SQL = "SELECT * FROM narrow";
  f.fake.bigquery.setResult(SQL, wideRows(50_000, 1));
  const stream = f.dw.queryRows(SQL);
  let count = 0;
  for await (const _ of stream) count++;
  assert.equal(count, 50_000);
  const requests = bigqueryRequests(f.fake);
  assert.equal(
    requests.length,
    2,
    "10,000 rows, then the other 40,000 at once",
  );
  assert.ok(Number(requests[1].query.get("maxResults")) > 40_000);
});

test("an answer larger than any BigQuery page is refused before it fills memory", async () => {
  // A wrong endpoint that streams without end, 1 MiB at a time.
  const chunk = new Uint8Array(1 << 20).fill(0x20);
  let sent = 0;
  const endless: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (!url.includes("/queries/")) return fetch(input, init);
    return Promise.resolve(
      new Response(
        new ReadableStream({
          pull(controller) {
            sent += chunk.length;
            controller.enqueue(chunk);
          },
        }),
      ),
    );
  };
  await using f = await dwFixture({ fetch: endless });
  f.fake.bigquery.setResult("SELECT * FROM t", wideRows(3, 1), {
    pageSize: 1,
  });
  const error = await f.dw.query("SELECT * FROM t").then(
    () => undefined,
    (e) => e,
  );
  assert.equal(error?.name, "BigQueryError");
  assert.equal(error.code, "bad_response");
  assert.match(
    error.message,
    /^BigQuery query \(http:\/\/127\.0\.0\.1:\d+\/bigquery\/v2\/projects\/[^)]+\) sent more than 256 MiB.* Check the URL\. If the URL is right, ask for fewer rows per page \(maxResults\)\.$/,
  );
  assert.ok(sent <= 258 * 2 ** 20, `read ${sent} bytes`);
});
