/**
 * What `dw query` shows on a terminal while BigQuery works, as `bq` does:
 * the job's state, the time so far, bytes processed and rows fetched on a
 * spinner line, and a line for each retry with its reason. Nothing when
 * stderr is not a terminal.
 */
import type { QueryProgress } from "../dw/client.ts";
import { type Output, stderr, style } from "./io.ts";
import { Progress } from "./progress.ts";
import { safeLine } from "./safe_text.ts";

/** A progress display for one query. */
export interface QueryProgressDisplay {
  /** The query's `onProgress`; `undefined` when nothing is shown. */
  onProgress?: (progress: QueryProgress) => void;
  /** Removes the spinner line. */
  stop(): void;
}

/** `1.2 GB`, `340 kB`, `12 B` (decimal units, as BigQuery bills). */
export function bytesText(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${
    units[unit]
  }`;
}

/** The spinner text of `p`, `elapsedMs` since the query was sent. */
export function progressLine(p: QueryProgress, elapsedMs: number): string {
  const parts = [
    `BigQuery ${p.state === "DONE" ? "reading rows" : p.state}`,
    `${(elapsedMs / 1000).toFixed(1)} s`,
  ];
  if (p.jobId) parts.push(`job ${safeLine(p.jobId)}`);
  if (p.bytesProcessed !== undefined) {
    parts.push(`${bytesText(p.bytesProcessed)} processed`);
  }
  if (p.state === "DONE" || p.rowsFetched > 0) {
    parts.push(
      `${p.rowsFetched.toLocaleString("en-US")}${
        p.totalRows === undefined
          ? ""
          : ` of ${p.totalRows.toLocaleString("en-US")}`
      } rows fetched`,
    );
  }
  return `${parts.join(" · ")}  (Ctrl-C to cancel)`;
}

/** The display on `out` (default stderr): silent unless it is a terminal. */
export function queryProgress(out: Output = stderr): QueryProgressDisplay {
  if (!out.isTTY) return { stop: () => {} };
  const spinner = new Progress(out);
  const start = Date.now();
  let last: QueryProgress = { state: "PENDING", elapsedMs: 0, rowsFetched: 0 };
  spinner.start(() => progressLine(last, Date.now() - start));
  return {
    onProgress(p) {
      last = p;
      if (p.retry) {
        const r = p.retry;
        spinner.log(
          `${style(out).yellow("!")} BigQuery: ${
            safeLine(r.reason)
          }; retrying in ${
            (r.delayMs / 1000).toFixed(1)
          } s (${r.attempt} of ${r.retries})`,
        );
      }
    },
    stop: () => spinner.stop(),
  };
}
