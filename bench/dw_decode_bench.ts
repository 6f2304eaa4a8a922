/**
 * Decoding speed: the same 100,000-row × 10-column typed payload decoded by
 * this client, by @google-cloud/bigquery's row merging
 * (`BigQuery.mergeSchemaWithRows_`), and parsed by `JSON.parse` alone.
 *
 *   npm --prefix bench install          # the official client, for comparison only
 *   ./node_modules/.bin/deno run -A bench/dw_decode_bench.ts
 *   ./node_modules/.bin/bun bench/dw_decode_bench.ts
 *
 * Goals (issue 10): decoding ≥ 15× faster than the official client, and
 * parse + decode ≤ 1.15× `JSON.parse` alone. Each case runs ROUNDS times;
 * the best CPU time (steadier than elapsed time on a shared machine) and the
 * best elapsed time are printed, with rows/s and ratios from CPU time.
 */
import { createRequire } from "node:module";
import { compileRowsDecoder } from "../src/dw/decode.ts";
import type { WireRow } from "../src/dw/types.ts";
import { BENCH_SCHEMA, benchResponse } from "./dw_payload.ts";
import { bestTimes, runtimeName, type Times } from "./dw_timing.ts";

const ROWS = 100_000;
const ROUNDS = 7;

interface OfficialBigQuery {
  mergeSchemaWithRows_(
    schema: unknown,
    rows: unknown[],
    options: Record<string, unknown>,
  ): unknown[];
}

/** The official client's decoder, or undefined when bench/node_modules is not installed. */
function loadOfficial(): OfficialBigQuery | undefined {
  try {
    const require = createRequire(import.meta.url);
    return require("@google-cloud/bigquery").BigQuery;
  } catch {
    return undefined;
  }
}

function report(label: string, times: Times, base?: Times): void {
  const rate = Math.round(ROWS / (times.cpu / 1000)).toLocaleString("en-US");
  const ratio = base
    ? `  (${(times.cpu / base.cpu).toFixed(2)}× JSON.parse)`
    : "";
  console.log(
    `${label.padEnd(44)} ${times.cpu.toFixed(1).padStart(7)} ms CPU ${
      times.wall.toFixed(1).padStart(7)
    } ms wall ${rate.padStart(10)} rows/s${ratio}`,
  );
}

const text = JSON.stringify(benchResponse(ROWS));
// The same rows in 10 pages of 10,000 rows (2.7 MB each), the size of the
// first page query() asks for when given no maxResults.
const PAGES = 10;
const pageTexts = Array.from(
  { length: PAGES },
  (_, p) => JSON.stringify(benchResponse(ROWS / PAGES, (p * ROWS) / PAGES)),
);
const parsedRows = (JSON.parse(text) as { rows: WireRow[] }).rows;
console.log(
  `payload: ${
    ROWS.toLocaleString("en-US")
  } rows × ${BENCH_SCHEMA.length} columns, ${
    (text.length / 1e6).toFixed(1)
  } MB of JSON`,
);
console.log(`runtime: ${runtimeName()}`);

const generated = compileRowsDecoder(BENCH_SCHEMA, { codegen: true });
const closures = compileRowsDecoder(BENCH_SCHEMA, { codegen: false });

const official = loadOfficial();
const officialOptions = {
  wrapIntegers: false,
  parseJSON: true,
  selectedFields: [],
};
const schema = { fields: BENCH_SCHEMA };
const parse = () => (JSON.parse(text) as { rows: WireRow[] }).rows;
const t = await bestTimes({
  parse,
  parseDecode: () => generated(parse()),
  decode: () => generated(parsedRows),
  closures: () => closures(parsedRows),
  pagedParse: () => pageTexts.map((page) => JSON.parse(page)),
  pagedParseDecode: () =>
    pageTexts.map((page) => generated(JSON.parse(page).rows)).flat(),
  ...(official
    ? {
      official: () =>
        official.mergeSchemaWithRows_(schema, parsedRows, officialOptions),
      officialParse: () =>
        official.mergeSchemaWithRows_(schema, parse(), officialOptions),
    }
    : {}),
}, ROUNDS);

report("JSON.parse alone", t.parse, t.parse);
report("JSON.parse + this client's decoder", t.parseDecode, t.parse);
report(
  `JSON.parse alone, ${PAGES} pages of ${ROWS / PAGES} rows`,
  t.pagedParse,
  t.pagedParse,
);
report(
  `JSON.parse + decoder, ${PAGES} pages of ${ROWS / PAGES} rows`,
  t.pagedParseDecode,
  t.pagedParse,
);
report("decode only, this client (generated code)", t.decode);
report("decode only, this client (closures, workers)", t.closures);
if (official) {
  report("decode only, @google-cloud/bigquery", t.official);
  report("JSON.parse + @google-cloud/bigquery", t.officialParse, t.parse);
}
const ratio = (a: Times, b: Times) =>
  `${(a.cpu / b.cpu).toFixed(2)}× CPU, ${(a.wall / b.wall).toFixed(2)}× wall`;
console.log(
  official
    ? `\ndecode speed-up over @google-cloud/bigquery: ${
      (t.official.cpu / t.decode.cpu).toFixed(1)
    }× CPU, ${(t.official.wall / t.decode.wall).toFixed(1)}× wall (goal ≥ 15×)`
    : "\n@google-cloud/bigquery not installed: run `npm --prefix bench install` to compare.",
);
console.log(
  `parse + decode / JSON.parse alone: ${
    ratio(t.parseDecode, t.parse)
  } in one 100,000-row answer; ${
    ratio(t.pagedParseDecode, t.pagedParse)
  } in ${PAGES} pages (goal ≤ 1.15×)`,
);
