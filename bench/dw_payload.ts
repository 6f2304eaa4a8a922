/**
 * The typed payload the Data Warehouse benchmarks decode: a jobs.query answer
 * in BigQuery's wire format with ten columns, one of each kind the decoder
 * treats differently (INT64, STRING, TIMESTAMP, FLOAT64, BOOL, DATE, NUMERIC,
 * REPEATED INT64, RECORD, JSON).
 */
import type { WireRow } from "../src/dw/types.ts";
import type { FakeField } from "../src/testing/mod.ts";

/** The ten columns. */
export const BENCH_SCHEMA: FakeField[] = [
  { name: "id", type: "INTEGER", mode: "NULLABLE" },
  { name: "name", type: "STRING", mode: "NULLABLE" },
  { name: "created_at", type: "TIMESTAMP", mode: "NULLABLE" },
  { name: "score", type: "FLOAT", mode: "NULLABLE" },
  { name: "active", type: "BOOLEAN", mode: "NULLABLE" },
  { name: "day", type: "DATE", mode: "NULLABLE" },
  { name: "amount", type: "NUMERIC", mode: "NULLABLE" },
  { name: "tags", type: "INTEGER", mode: "REPEATED" },
  {
    name: "location",
    type: "RECORD",
    mode: "NULLABLE",
    fields: [
      { name: "lat", type: "FLOAT", mode: "NULLABLE" },
      { name: "lng", type: "FLOAT", mode: "NULLABLE" },
    ],
  },
  { name: "attrs", type: "JSON", mode: "NULLABLE" },
];

/** Row `i` in wire format; every 17th row has NULLs, as real data does. */
export function benchRow(i: number): WireRow {
  const nulls = i % 17 === 0;
  const micros = 1712609904434123 + i * 1_000_003;
  const day = new Date(Date.UTC(2024, 0, 1 + (i % 366))).toISOString()
    .slice(0, 10);
  return {
    f: [
      { v: String(1_000_000 + i) },
      { v: nulls ? null : `name-${i.toString(36)}` },
      { v: String(micros) },
      { v: nulls ? null : String(i * 0.731) },
      { v: i % 2 === 0 ? "true" : "false" },
      { v: day },
      { v: `${i}.${String(i % 100).padStart(2, "0")}` },
      { v: [{ v: String(i) }, { v: String(i + 1) }, { v: String(i * 2) }] },
      {
        v: nulls
          ? null
          : { f: [{ v: String(40 + i / 1e6) }, { v: String(-3 - i / 1e6) }] },
      },
      { v: JSON.stringify({ k: i, tag: `t${i % 10}` }) },
    ],
  };
}

/** A jobs.query answer with rows `from` … `from + count - 1`. */
export function benchResponse(
  count: number,
  from = 0,
  pageToken?: string,
): Record<string, unknown> {
  return {
    kind: "bigquery#queryResponse",
    schema: { fields: BENCH_SCHEMA },
    jobReference: { projectId: "bench", jobId: "job_bench", location: "US" },
    totalRows: String(count),
    rows: Array.from({ length: count }, (_, i) => benchRow(from + i)),
    ...(pageToken ? { pageToken } : {}),
    totalBytesProcessed: "0",
    jobComplete: true,
    cacheHit: false,
  };
}
