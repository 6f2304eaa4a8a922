/**
 * Server-provided text made harmless for a terminal. An error message, an
 * account name or an `error_description` may carry ESC, CSI or OSC
 * sequences (clear the screen, retitle the window, forge a hyperlink); like
 * gh's ASCII sanitizer, every C0 and C1 control character is shown instead
 * of obeyed: C0 and DEL in caret notation (`^[`, `^?`), C1 as `\u009b`.
 */

// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
// deno-lint-ignore no-control-regex
const CONTROL_OR_LINE = /[\x00-\x1f\x7f-\x9f]/g;

function shown(c: string): string {
  const code = c.charCodeAt(0);
  if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
  if (code === 0x7f) return "^?";
  return `\\u${code.toString(16).padStart(4, "0")}`;
}

/**
 * `text` with its control characters shown instead of obeyed; line feeds
 * and tabs stay (a BigQuery error points under the offending line).
 *
 * @example
 * ```ts
 * import { safeText } from "./safe_text.ts";
 * safeText("bad\x1b]0;pwned\x07 name"); // "bad^[]0;pwned^G name"
 * ```
 */
export function safeText(text: string): string {
  return text.replace(CONTROL, shown);
}

/**
 * `text` on one line: like {@linkcode safeText}, and line feeds and tabs
 * shown too (an account name, a tenant, a value in a table row).
 *
 * @example
 * ```ts
 * import { safeLine } from "./safe_text.ts";
 * safeLine("jane\nroot"); // "jane^Jroot"
 * ```
 */
export function safeLine(text: string): string {
  return text.replace(CONTROL_OR_LINE, shown);
}

/** Whether `text` holds a control character other than a line feed or a tab. */
export function hasControl(text: string): boolean {
  CONTROL.lastIndex = 0;
  return CONTROL.test(text);
}

/**
 * JSON text with DEL and the C1 controls escaped as well (`JSON.stringify`
 * escapes only C0), so printing it to a terminal obeys nothing. Still the
 * same JSON value.
 *
 * @example
 * ```ts
 * import { jsonSafe } from "./safe_text.ts";
 * jsonSafe(JSON.stringify("a\x9bb")); // '"a\\u009bb"'
 * ```
 */
export function jsonSafe(text: string): string {
  return text.replace(
    /[\x7f-\x9f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
