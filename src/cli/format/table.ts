/** An aligned text table for people: numbers to the right, NULL dimmed, fitted to the terminal. */
import type { Style } from "../io.ts";
import { isNumeric, toText } from "./values.ts";

/** Terminal columns a string takes: wide (CJK, emoji) characters count 2, combining marks 0. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (/\p{Mn}|\p{Me}|\u200d|[\ufe00-\ufe0f]/u.test(ch)) continue;
    width += isWide(cp) ? 2 : 1;
  }
  return width;
}

function isWide(cp: number): boolean {
  return (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) || (cp >= 0x20000 && cp <= 0x3fffd);
}

/** Cuts `text` to `width` columns, ending with `…` when it was longer. */
function truncate(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  let out = "";
  let used = 0;
  for (const ch of text) {
    const w = displayWidth(ch);
    if (used + w > width - 1) break;
    out += ch;
    used += w;
  }
  return `${out}…`;
}

/** Control characters (C0, DEL, C1) as escapes, so a cell stays on one line and is never obeyed. */
function oneLine(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f-\x9f]/g,
    (c) =>
      c === "\n"
        ? "\\n"
        : c === "\t"
        ? "\\t"
        : c === "\r"
        ? "\\r"
        : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

const GAP = 2;
const MIN_WIDTH = 6;

/** Narrows the widest columns until the table fits `columns` (or none can shrink). */
function fit(widths: number[], columns: number): number[] {
  const out = [...widths];
  const total = () => out.reduce((a, b) => a + b, 0) + GAP * (out.length - 1);
  while (total() > columns) {
    const widest = out.indexOf(Math.max(...out));
    if (out[widest] <= MIN_WIDTH) break;
    out[widest] = Math.max(MIN_WIDTH, out[widest] - (total() - columns));
  }
  return out;
}

/**
 * The table of `rows` under the `names` header. With `columns` (a terminal's
 * width) long cells are cut with `…` so rows stay on one line.
 */
export function renderTable(
  names: string[],
  rows: Record<string, unknown>[],
  s: Style,
  columns?: number,
): string {
  const cells = rows.map((row) =>
    names.map((name) => {
      const v = row[name];
      return v === null || v === undefined
        ? { text: "NULL", null: true, number: false }
        : { text: oneLine(toText(v)), null: false, number: isNumeric(v) };
    })
  );
  // A column of numbers (NULLs aside) is right-aligned, header included.
  const numeric = names.map((_, i) => {
    const present = cells.filter((r) => !r[i].null);
    return present.length > 0 && present.every((r) => r[i].number);
  });
  let widths = names.map((name, i) =>
    Math.max(
      displayWidth(name),
      ...cells.map((r) => displayWidth(r[i].text)),
    )
  );
  if (columns) widths = fit(widths, columns);
  const pad = (text: string, i: number, right: boolean) => {
    const t = truncate(text, widths[i]);
    const space = " ".repeat(widths[i] - displayWidth(t));
    return right ? space + t : t + space;
  };
  const line = (parts: string[]) =>
    parts.join(" ".repeat(GAP)).replace(/\s+$/, "");
  const out = [
    line(names.map((n, i) => s.bold(pad(oneLine(n), i, numeric[i])))),
    line(widths.map((w) => s.dim("─".repeat(w)))),
    ...cells.map((r) =>
      line(r.map((c, i) => {
        const text = pad(c.text, i, numeric[i]);
        return c.null ? s.dim(text) : text;
      }))
    ),
  ];
  return `${out.join("\n")}\n`;
}
