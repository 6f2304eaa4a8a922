/**
 * The page decoder as generated JavaScript: for a schema it writes one
 * function whose loop builds each row as an object literal with every
 * conversion inlined (`+v`, `v === "true"`, a nested literal per RECORD, a
 * helper loop per REPEATED column). Engines give such code fixed object
 * shapes and monomorphic call sites, which makes it several times faster
 * than generic per-cell dispatch. Column names only ever appear as
 * `JSON.stringify`-quoted keys; values are never part of the code.
 */
import type { TableFieldSchema, WireRow } from "./types.ts";
import {
  bytesFromBase64,
  type Int64Mode,
  jsonParser,
  kindOf,
  rangeParser,
  timestampParser,
  unsafeIntegerThrower,
} from "./values.ts";

let codegenAllowed: boolean | undefined;

/** Whether `new Function` works here (Cloudflare Workers and strict CSP forbid it). */
export function canGenerateCode(): boolean {
  if (codegenAllowed === undefined) {
    try {
      codegenAllowed = new Function("return 1")() === 1;
    } catch {
      codegenAllowed = false;
    }
  }
  return codegenAllowed;
}

/** Generates the decoder of pages of `fields` rows; see the module doc. */
export function generateRowsDecoder(
  fields: readonly TableFieldSchema[],
  int64: Int64Mode,
): (rows: readonly WireRow[]) => Record<string, unknown>[] {
  const program = new Program(int64);
  const scope = new Set<string>();
  const row = program.literal(fields, "f", 1, "", scope);
  const body = [
    ...program.helpers,
    "return function decodeRows(rows) {",
    "  const n = rows.length;",
    "  const out = new Array(n);",
    ...declare(scope).map((line) => `  ${line}`),
    "  for (let i = 0; i < n; i++) {",
    "    const f = rows[i].f;",
    `    out[i] = ${row};`,
    "  }",
    "  return out;",
    "};",
  ].join("\n");
  return program.compile(body);
}

/** The code being generated: shared constants (converters) and helper functions. */
class Program {
  readonly helpers: string[] = [];
  readonly #constants = new Map<unknown, string>();
  #next = 0;

  constructor(readonly int64: Int64Mode) {}

  /** A name for `value` inside the generated code (one per distinct value). */
  constant(value: unknown): string {
    let name = this.#constants.get(value);
    if (!name) {
      name = `c${this.#next++}`;
      this.#constants.set(value, name);
    }
    return name;
  }

  /** `{ "name": <expression>, … }` for a record whose cells are in array `cells`. */
  literal(
    fields: readonly TableFieldSchema[],
    cells: string,
    depth: number,
    prefix: string,
    scope: Set<string>,
  ): string {
    const props = fields.map((field, i) => {
      const key = field.name === "__proto__"
        ? `["__proto__"]` // a plain `__proto__:` would set the prototype
        : JSON.stringify(field.name);
      const value = this.cell(
        field,
        `${cells}[${i}].v`,
        depth,
        prefix + field.name,
        scope,
      );
      return `${key}: ${value}`;
    });
    return `{ ${props.join(", ")} }`;
  }

  /** The decoded value of the wire cell at `cell` (null stays null). */
  cell(
    field: TableFieldSchema,
    cell: string,
    depth: number,
    path: string,
    scope: Set<string>,
  ): string {
    if (field.mode !== "REPEATED" && this.#keepsString(field)) return cell;
    const v = `v${depth}`;
    scope.add(v);
    const value = field.mode === "REPEATED"
      ? `${this.#repeatedHelper(field, path)}(${v})`
      : this.#element(field, v, depth, path, scope);
    return `(${v} = ${cell}) === null ? null : ${value}`;
  }

  #keepsString(field: TableFieldSchema): boolean {
    const kind = kindOf(field);
    return kind === "string" || (kind === "int64" && this.int64 === "string");
  }

  /** A helper function that decodes the array of cells of a REPEATED column. */
  #repeatedHelper(field: TableFieldSchema, path: string): string {
    const slot = this.helpers.length;
    const name = `rep${slot}`;
    this.helpers.push(""); // reserved: the helpers of nested arrays come after
    const scope = new Set<string>();
    const element = this.cell(
      { ...field, mode: "NULLABLE" },
      "a[k].v",
      1,
      path,
      scope,
    );
    this.helpers[slot] = [
      `function ${name}(a) {`,
      "  const n = a.length;",
      "  const out = new Array(n);",
      ...declare(scope).map((line) => `  ${line}`),
      `  for (let k = 0; k < n; k++) out[k] = ${element};`,
      "  return out;",
      "}",
    ].join("\n");
    return name;
  }

  /** The decoded value of the non-null, non-repeated wire value in variable `v`. */
  #element(
    field: TableFieldSchema,
    v: string,
    depth: number,
    path: string,
    scope: Set<string>,
  ): string {
    switch (kindOf(field)) {
      case "int64": {
        if (this.int64 === "bigint") return `BigInt(${v})`;
        const x = `x${depth}`;
        scope.add(x);
        const unsafe = this.constant(unsafeIntegerThrower(path));
        return `(${x} = +${v}, Number.isSafeInteger(${x}) ? ${x} : ${unsafe}(${v}))`;
      }
      case "float":
        return `+${v}`; // also "NaN", "Infinity", "-Infinity"
      case "bool":
        return `${v} === "true"`;
      case "timestamp": {
        // The common case inline (see isModernMicros), the rest there.
        const x = `x${depth}`;
        scope.add(x);
        const slow = this.constant(timestampParser(path));
        return `(${x} = +${v}, ${x} >= 1e15 && ${x} < 9e15 && ${v}.length === 16 ? new Date(Math.floor(${x} / 1000)) : ${slow}(${v}))`;
      }
      case "bytes":
        return `${this.constant(bytesFromBase64)}(${v})`;
      case "json":
        return `${this.constant(jsonParser(path))}(${v})`;
      case "range": {
        const type = field.rangeElementType?.type ?? "STRING";
        return `${this.constant(rangeParser(type, path))}(${v})`;
      }
      case "record": {
        const g = `g${depth}`;
        scope.add(g);
        const fields = field.fields ?? [];
        const literal = this.literal(fields, g, depth + 1, `${path}.`, scope);
        return `(${g} = ${v}.f, ${literal})`;
      }
      case "string":
        return v;
    }
  }

  /** Runs the generated `body` with the constants in scope. */
  compile<T>(body: string): T {
    const names = [...this.#constants.values()];
    const values = [...this.#constants.keys()];
    return new Function(...names, `"use strict";\n${body}`)(...values);
  }
}

function declare(scope: Set<string>): string[] {
  return scope.size ? [`let ${[...scope].join(", ")};`] : [];
}
