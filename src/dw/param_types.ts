/**
 * BigQuery types written as GoogleSQL text (`INT64`, `ARRAY<STRING>`,
 * `STRUCT<name STRING, tags ARRAY<STRING>>`, `RANGE<DATE>`) turned into the
 * REST API's `QueryParameterType`.
 */
import { BigQueryError } from "./errors.ts";
import type { QueryParameterType } from "./types.ts";

/**
 * The type of a query parameter: GoogleSQL text such as `"INT64"`,
 * `"ARRAY<STRING>"`, `"STRUCT<x FLOAT64, y FLOAT64>"` or `"RANGE<DATE>"`
 * (legacy names like `INTEGER` or `RECORD` work too), or the REST API's
 * {@linkcode QueryParameterType} object.
 *
 * @example
 * ```ts ignore
 * await dw.query("SELECT @d AS d, @ids AS ids", {
 *   params: { d: null, ids: [] },
 *   types: { d: "DATE", ids: "ARRAY<INT64>" },
 * });
 * ```
 */
export type ParamType = string | QueryParameterType;

const ALIASES: Record<string, string> = {
  INTEGER: "INT64",
  FLOAT: "FLOAT64",
  BOOLEAN: "BOOL",
  DECIMAL: "NUMERIC",
  BIGDECIMAL: "BIGNUMERIC",
  RECORD: "STRUCT",
};

/** The scalar types a parameter can have. */
export const SCALAR_TYPES: ReadonlySet<string> = new Set([
  "INT64",
  "FLOAT64",
  "NUMERIC",
  "BIGNUMERIC",
  "BOOL",
  "STRING",
  "BYTES",
  "DATE",
  "DATETIME",
  "TIME",
  "TIMESTAMP",
  "GEOGRAPHY",
  "INTERVAL",
  "JSON",
]);

/**
 * `type` as a {@linkcode QueryParameterType} with canonical names; `where`
 * names the parameter in error messages.
 */
export function toParameterType(
  type: ParamType,
  where: string,
): QueryParameterType {
  if (typeof type !== "string") return canonical(type, where);
  const parser = new TypeParser(type, where);
  const parsed = parser.type();
  parser.end();
  return parsed;
}

function canonical(
  type: QueryParameterType,
  where: string,
): QueryParameterType {
  const name = canonicalName(String(type.type ?? ""), where);
  if (name === "ARRAY") {
    if (!type.arrayType) throw badType(where, "ARRAY needs an arrayType");
    return { type: name, arrayType: canonical(type.arrayType, where) };
  }
  if (name === "STRUCT") {
    return {
      type: name,
      structTypes: (type.structTypes ?? []).map((f) => ({
        ...(f.name ? { name: f.name } : {}),
        type: canonical(f.type, where),
      })),
    };
  }
  if (name === "RANGE") {
    if (!type.rangeElementType) {
      throw badType(where, "RANGE needs a rangeElementType");
    }
    return {
      type: name,
      rangeElementType: canonical(type.rangeElementType, where),
    };
  }
  return { type: name };
}

function canonicalName(name: string, where: string): string {
  const upper = name.toUpperCase();
  const type = ALIASES[upper] ?? upper;
  if (SCALAR_TYPES.has(type) || ["ARRAY", "STRUCT", "RANGE"].includes(type)) {
    return type;
  }
  throw badType(where, `unknown type "${name}"`);
}

function badType(where: string, problem: string): BigQueryError {
  return new BigQueryError(
    `The type given for ${where} is not valid: ${problem}. ` +
      `Write a GoogleSQL type such as "INT64", "ARRAY<STRING>" or "STRUCT<x FLOAT64, y FLOAT64>".`,
    { code: "invalid_input" },
  );
}

/** A recursive-descent parser of GoogleSQL type text. */
class TypeParser {
  readonly #tokens: string[];
  #at = 0;

  constructor(readonly text: string, readonly where: string) {
    this.#tokens = text.match(/[A-Za-z_][A-Za-z0-9_]*|[<>,]|\S/g) ?? [];
  }

  type(): QueryParameterType {
    const name = canonicalName(this.#take("a type name"), this.where);
    if (name === "ARRAY" || name === "RANGE") {
      this.#expect("<");
      const element = this.type();
      this.#expect(">");
      return name === "ARRAY"
        ? { type: name, arrayType: element }
        : { type: name, rangeElementType: element };
    }
    if (name === "STRUCT") {
      this.#expect("<");
      const structTypes: { name?: string; type: QueryParameterType }[] = [];
      while (this.#peek() !== ">") {
        if (structTypes.length) this.#expect(",");
        structTypes.push(this.#structField());
      }
      this.#expect(">");
      return { type: name, structTypes };
    }
    return { type: name };
  }

  end(): void {
    if (this.#at < this.#tokens.length) {
      throw badType(
        this.where,
        `unexpected "${this.#tokens[this.#at]}" in "${this.text}"`,
      );
    }
  }

  /** `name TYPE` or an anonymous `TYPE`. */
  #structField(): { name?: string; type: QueryParameterType } {
    const next = this.#tokens[this.#at + 1];
    if (next !== undefined && /^[A-Za-z_]/.test(next)) {
      const name = this.#take("a field name");
      return { name, type: this.type() };
    }
    return { type: this.type() };
  }

  #peek(): string | undefined {
    return this.#tokens[this.#at];
  }

  #take(what: string): string {
    const token = this.#tokens[this.#at++];
    if (token === undefined || !/^[A-Za-z_]/.test(token)) {
      throw badType(this.where, `expected ${what} in "${this.text}"`);
    }
    return token;
  }

  #expect(token: string): void {
    if (this.#tokens[this.#at++] !== token) {
      throw badType(this.where, `expected "${token}" in "${this.text}"`);
    }
  }
}
