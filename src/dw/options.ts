/**
 * Checks of query options against BigQuery's rules, before anything is
 * sent: a value BigQuery would refuse (or, worse, read differently) is a
 * {@linkcode BigQueryError} of code `invalid_input` naming the option and
 * the rule.
 */
import { BigQueryError } from "./errors.ts";

/** The options checked; see `QueryOptions` for what each means. */
export interface CheckedOptions {
  maxResults?: number;
  timeoutMs?: number;
  maximumBytesBilled?: number | bigint | string;
  labels?: Record<string, string>;
  location?: string;
  useQueryCache?: boolean;
  jobCreationMode?: string;
  int64?: string;
}

const UINT32_MAX = 2 ** 32 - 1;
const INT64_MAX = 2n ** 63n - 1n;
/** Google's label rules: lowercase letters (international ones too), digits, `_` and `-`; keys start with a letter. */
const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
const MAX_LABELS = 64;

/**
 * Throws a {@linkcode BigQueryError} (`invalid_input`) for the first option
 * of `options` (or of the client's `defaults`) that breaks BigQuery's rules,
 * or for an `sql` that is not a query text.
 *
 * @example
 * ```ts ignore
 * checkQueryOptions("SELECT 1", { maxResults: 2.5 });
 * // BigQueryError: maxResults must be a whole number of rows from 1 to 4294967295; got 2.5.
 * ```
 */
export function checkQueryOptions(
  sql: unknown,
  options: CheckedOptions,
  defaults: Pick<CheckedOptions, "labels" | "location" | "int64"> = {},
): void {
  if (typeof sql !== "string" || !sql.trim()) {
    throw invalid(
      `The query must be a non-empty string of SQL; got ${show(sql)}.`,
    );
  }
  const { maxResults, timeoutMs, maximumBytesBilled } = options;
  if (maxResults !== undefined && !isUint32(maxResults, 1)) {
    throw invalid(
      `maxResults must be a whole number of rows from 1 to ${UINT32_MAX}; got ${
        show(maxResults)
      }.`,
    );
  }
  if (timeoutMs !== undefined && !isUint32(timeoutMs, 0)) {
    throw invalid(
      `timeoutMs must be a whole number of milliseconds from 0 to ${UINT32_MAX}; got ${
        show(timeoutMs)
      }. For an overall deadline use signal: AbortSignal.timeout(ms).`,
    );
  }
  if (maximumBytesBilled !== undefined) checkBytes(maximumBytesBilled);
  for (const labels of [defaults.labels, options.labels]) {
    if (labels !== undefined) checkLabels(labels);
  }
  const labelCount = Object.keys({ ...defaults.labels, ...options.labels })
    .length;
  if (labelCount > MAX_LABELS) {
    throw invalid(
      `labels: the query would have ${labelCount} labels (its own and the client's); BigQuery allows at most ${MAX_LABELS}.`,
    );
  }
  oneOf(
    "location",
    options.location ?? defaults.location,
    (v) => typeof v === "string" && !!v,
    'a non-empty string such as "US" or "europe-west1"',
  );
  oneOf(
    "useQueryCache",
    options.useQueryCache,
    (v) => typeof v === "boolean",
    "true or false",
  );
  oneOf(
    "jobCreationMode",
    options.jobCreationMode,
    (v) => v === "JOB_CREATION_OPTIONAL" || v === "JOB_CREATION_REQUIRED",
    '"JOB_CREATION_OPTIONAL" or "JOB_CREATION_REQUIRED"',
  );
  oneOf(
    "int64",
    options.int64 ?? defaults.int64,
    (v) => v === "number" || v === "bigint" || v === "string",
    '"number", "bigint" or "string"',
  );
}

function isUint32(value: unknown, min: number): boolean {
  return typeof value === "number" && Number.isInteger(value) &&
    value >= min && value <= UINT32_MAX;
}

/** maximumBytesBilled is an int64 that travels as a decimal string. */
function checkBytes(value: unknown): void {
  const rule =
    "maximumBytesBilled must be a whole number of bytes from 0 to 2^63 − 1";
  if (typeof value === "number") {
    if (Number.isSafeInteger(value) && value >= 0) return;
    if (Number.isInteger(value) && value > 0) {
      throw invalid(
        `${rule}; got ${value}, beyond Number.MAX_SAFE_INTEGER where numbers are no longer exact: pass it as a bigint or a decimal string.`,
      );
    }
  } else if (typeof value === "bigint") {
    if (value >= 0n && value <= INT64_MAX) return;
  } else if (typeof value === "string" && /^\d+$/.test(value)) {
    if (BigInt(value) <= INT64_MAX) return;
  }
  throw invalid(
    `${rule} (a number, bigint or decimal string); got ${show(value)}.`,
  );
}

function checkLabels(labels: unknown): void {
  if (!labels || typeof labels !== "object" || Array.isArray(labels)) {
    throw invalid(
      `labels must be an object of key → value strings; got ${show(labels)}.`,
    );
  }
  const entries = Object.entries(labels);
  for (const [key, value] of entries) {
    if (!LABEL_KEY.test(key)) {
      throw invalid(
        `The label key ${
          show(key)
        } is not valid: keys are 1 to 63 lowercase letters ` +
          `(international ones too), digits, "_" or "-", and start with a letter.`,
      );
    }
    if (typeof value !== "string" || !LABEL_VALUE.test(value)) {
      throw invalid(
        `The value of label "${key}" is not valid: values are strings of 0 to 63 lowercase ` +
          `letters (international ones too), digits, "_" or "-"; got ${
            show(value)
          }.`,
      );
    }
  }
}

function oneOf(
  name: string,
  value: unknown,
  valid: (v: unknown) => boolean,
  expected: string,
): void {
  if (value !== undefined && !valid(value)) {
    throw invalid(`${name} must be ${expected}; got ${show(value)}.`);
  }
}

function invalid(message: string): BigQueryError {
  return new BigQueryError(message, { code: "invalid_input" });
}

function show(value: unknown): string {
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") {
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  }
  if (typeof value === "number") return String(value);
  if (value === null || value === undefined) return String(value);
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}
