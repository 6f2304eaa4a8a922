/** Query results on stdout: `table` for people, `json`, `ndjson` and `csv` for pipes. */
import { UsageError } from "../errors.ts";
import { type Output, stderr, style } from "../io.ts";
import { renderTable } from "./table.ts";
import { toJson, toText } from "./values.ts";

/** The output formats of `dw query` and `sql`. */
export const FORMATS = ["table", "json", "ndjson", "csv"] as const;
/** One of {@linkcode FORMATS}. */
export type Format = typeof FORMATS[number];

/** The `--format` flag (with `--json` as a short form), shared by `dw query` and `sql`. */
export const FORMAT_FLAGS = {
  format: {
    type: "string",
    short: "f",
    arg: "FORMAT",
    help: "table (default), json, ndjson or csv",
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
  if (value === undefined) return "table";
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

function jsonRow(names: string[], row: Record<string, unknown>): string {
  return `{${
    names.map((n) => `${JSON.stringify(n)}:${toJson(row[n] ?? null)}`).join(",")
  }}`;
}

/** Writes `rows` (columns `names`) to `out` in `format`, in chunks. */
export async function writeRows(
  out: Output,
  format: Format,
  names: string[],
  rows: Record<string, unknown>[],
): Promise<void> {
  if (format === "table") {
    await out.write(renderTable(names, rows, style(out), out.columns));
    if (stderr.isTTY) {
      const n = rows.length;
      await stderr.write(
        style(stderr).dim(`(${n} row${n === 1 ? "" : "s"})\n`),
      );
    }
    return;
  }
  const line = format === "csv"
    ? (row: Record<string, unknown>) =>
      names.map((n) => csvCell(row[n])).join(",")
    : (row: Record<string, unknown>) => jsonRow(names, row);
  const lines: string[] = [];
  if (format === "csv") lines.push(names.map(csvCell).join(","));
  const flush = async (force: boolean) => {
    if (lines.length >= 1000 || (force && lines.length)) {
      await out.write(lines.join("\n") + "\n");
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
