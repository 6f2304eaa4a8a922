/**
 * `--param name=value` and `--param name:TYPE=value` into BigQuery query
 * parameters (JS values the DW client types).
 */
import { UsageError } from "./errors.ts";

const TYPES = ["STRING", "INT64", "FLOAT64", "BOOL", "TIMESTAMP"] as const;
const ALIASES: Record<string, typeof TYPES[number]> = {
  INTEGER: "INT64",
  INT: "INT64",
  FLOAT: "FLOAT64",
  BOOLEAN: "BOOL",
};

const INTEGER = /^-?(0|[1-9]\d*)$/;
const DECIMAL = /^-?(0|[1-9]\d*)?(\.\d+)?([eE][+-]?\d+)?$/;

function integer(text: string): number | bigint | undefined {
  if (!INTEGER.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

function float(text: string): number | undefined {
  return /\d/.test(text) && DECIMAL.test(text) ? Number(text) : undefined;
}

function boolean(text: string): boolean | undefined {
  const t = text.toLowerCase();
  return t === "true" ? true : t === "false" ? false : undefined;
}

/**
 * The value of an untyped parameter: a plain integer (no leading zeros) is
 * INT64, a decimal number FLOAT64, `true`/`false` BOOL, anything else STRING.
 */
export function inferValue(text: string): unknown {
  return integer(text) ?? float(text) ?? boolean(text) ?? text;
}

function typed(type: typeof TYPES[number], text: string): unknown {
  switch (type) {
    case "STRING":
      return text;
    case "INT64":
      return integer(text);
    case "FLOAT64":
      return float(text) ??
        (/^-?(inf|infinity|nan)$/i.test(text)
          ? Number(text.replace(/inf(inity)?/i, "Infinity"))
          : undefined);
    case "BOOL":
      return boolean(text);
    case "TIMESTAMP": {
      const date = new Date(text);
      return Number.isNaN(date.getTime()) ? undefined : date;
    }
  }
}

/** Parses the `--param` flags of `command` into named parameters. */
export function parseParams(
  specs: string[],
  command: string,
): Record<string, unknown> | undefined {
  if (!specs.length) return undefined;
  const params: Record<string, unknown> = {};
  for (const spec of specs) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z0-9]+))?=(.*)$/s.exec(spec);
    if (!m) {
      throw new UsageError(
        `--param ${JSON.stringify(spec)} is not name=value or name:TYPE=value`,
        command,
      );
    }
    const [, name, rawType, text] = m;
    if (name in params) {
      throw new UsageError(`--param ${name} is given twice`, command);
    }
    if (rawType === undefined) {
      params[name] = inferValue(text);
      continue;
    }
    const upper = rawType.toUpperCase();
    const type = ALIASES[upper] ??
      (TYPES as readonly string[]).find((t) => t === upper);
    if (!type) {
      throw new UsageError(
        `--param type ${rawType} is not supported: use ${
          TYPES.join(", ")
        }, or pass a STRING and convert it in SQL, e.g. DATE(@${name})`,
        command,
      );
    }
    const value = typed(type as typeof TYPES[number], text);
    if (value === undefined) {
      throw new UsageError(
        `--param ${name}: ${JSON.stringify(text)} is not a valid ${type}`,
        command,
      );
    }
    params[name] = value;
  }
  return params;
}
