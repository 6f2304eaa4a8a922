/** Query results on stdout: `table` for people, `json`, `ndjson` and `csv` for pipes. */
import { UsageError } from "../errors.ts";
import { type Output, stderr, stdout, style } from "../io.ts";
import { jsonSafe, safeText } from "../safe_text.ts";
import { renderTable } from "./table.ts";
import { toJson, toText } from "./values.ts";

/** The output formats of `dw query` and `sql`. */
export const FORMATS = ["table", "tsv", "json", "ndjson", "csv"] as const;
/** One of {@linkcode FORMATS}. */
export type Format = typeof FORMATS[number];

/** The `--format` flag (with `--json` as a short form), shared by `dw query` and `sql`. */
export const FORMAT_FLAGS = {
  format: {
    type: "string",
    short: "f",
    arg: "FORMAT",
    help:
      "table (default on a terminal), tsv (default when piped), json, ndjson or csv",
  },
  json: { type: "boolean", help: "same as --format json" },
} as const;

/** The format asked for by `--format` / `--json`. */
export function formatFrom(
  flags: Record<string, unknown>,
  command: string,
): Format {
  const value = flags.format as string | undefined;
  if (flags.json && value !== undefined && value !== "json") {
    throw new UsageError(
      `--json and --format ${value} cannot be used together`,
      command,
    );
  }
  if (flags.json) return "json";
  // Like gh: a table for people, tab-separated values for pipes.
  if (value === undefined) return stdout.isTTY ? "table" : "tsv";
  if (!(FORMATS as readonly string[]).includes(value)) {
    throw new UsageError(
      `unknown format ${JSON.stringify(value)}: use ${FORMATS.join(", ")}`,
      command,
    );
  }
  return value as Format;
}

function csvCell(value: unknown): string {
  // NULL is an empty field; an empty string is "" (as PostgreSQL's CSV does).
  if (value === null || value === undefined) return "";
  const text = toText(value);
  return text === "" || /[",\r\n]|^\s|\s$/.test(text)
    ? `"${text.replaceAll('"', '""')}"`
    : text;
}

/**
 * A TSV field: NULL empty, and backslash, tab, line feed and carriage
 * return escaped (`\\`, `\t`, `\n`, `\r`) so each row stays one line.
 */
function tsvCell(value: unknown): string {
  if (value === null || value === undefined) return "";
  return toText(value).replace(
    /[\\\t\n\r]/g,
    (c) =>
      c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r",
  );
}

function jsonRow(names: string[], row: Record<string, unknown>): string {
  return `{${
    names.map((n) => `${JSON.stringify(n)}:${toJson(row[n] ?? null)}`).join(",")
  }}`;
}

const count = (n: number) => n.toLocaleString("en-US");

/**
 * Writes `rows` (columns `names`) to `out` in `format`, in chunks. With
 * `totalRows` above the rows given (`--max-rows` cut the result), stderr
 * says how many were left out.
 */
export async function writeRows(
  out: Output,
  format: Format,
  names: string[],
  rows: Record<string, unknown>[],
  totalRows = rows.length,
): Promise<void> {
  await writeFormatted(out, format, names, rows);
  const n = rows.length;
  const cut = totalRows > n;
  if (format === "table" && stderr.isTTY) {
    await stderr.write(
      style(stderr).dim(
        cut
          ? `(${count(n)} of ${
            count(totalRows)
          } rows; --max-rows left out the rest)\n`
          : `(${count(n)} row${n === 1 ? "" : "s"})\n`,
      ),
    );
  } else if (cut) {
    await stderr.write(
      `${count(n)} of ${
        count(totalRows)
      } rows printed; --max-rows left out the rest.\n`,
    );
  }
}

async function writeFormatted(
  out: Output,
  format: Format,
  names: string[],
  rows: Record<string, unknown>[],
): Promise<void> {
  if (format === "table") {
    await out.write(renderTable(names, rows, style(out), out.columns));
    return;
  }
  const line = format === "csv"
    ? (row: Record<string, unknown>) =>
      names.map((n) => csvCell(row[n])).join(",")
    : format === "tsv"
    ? (row: Record<string, unknown>) =>
      names.map((n) => tsvCell(row[n])).join("\t")
    : (row: Record<string, unknown>) => jsonSafe(jsonRow(names, row));
  const lines: string[] = [];
  if (format === "csv") lines.push(names.map(csvCell).join(","));
  if (format === "tsv") lines.push(names.map(tsvCell).join("\t"));
  // Exact for pipes; on a terminal a field's escape sequences are shown, not obeyed.
  const shown = out.isTTY ? safeText : (t: string) => t;
  const flush = async (force: boolean) => {
    if (lines.length >= 1000 || (force && lines.length)) {
      await out.write(shown(lines.join("\n")) + "\n");
      lines.length = 0;
    }
  };
  if (format === "json") await out.write(rows.length ? "[\n" : "[]\n");
  for (let i = 0; i < rows.length; i++) {
    const text = line(rows[i]);
    lines.push(
      format === "json"
        ? `  ${text}${i < rows.length - 1 ? "," : "\n]"}`
        : text,
    );
    await flush(false);
  }
  await flush(true);
}
