/**
 * `--param name=value` and `--param name:TYPE=value` into the DW client's
 * `params` and `types`.
 */
import { CredentialsError } from "../errors.ts";
import { UsageError } from "./errors.ts";

/** Named parameters and the explicit types of some of them. */
export interface CliParams {
  params: Record<string, unknown>;
  types: Record<string, string>;
}

const INTEGER = /^-?(0|[1-9]\d*)$/;
const DECIMAL =
  /^-?(0|[1-9]\d*)?\.\d+([eE][+-]?\d+)?$|^-?(0|[1-9]\d*)[eE][+-]?\d+$/;

/**
 * The value of an untyped parameter: a plain integer (no leading zeros) is
 * INT64, a decimal number FLOAT64, `true`/`false` BOOL, anything else STRING.
 */
export function inferValue(text: string): unknown {
  if (INTEGER.test(text)) {
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : BigInt(text);
  }
  if (DECIMAL.test(text)) return Number(text);
  if (text === "true" || text === "false") return text === "true";
  return text;
}

/**
 * The value of a parameter of `type`: BOOL a boolean, ARRAY / STRUCT / RANGE
 * parsed as JSON, every other type the text (the DW client checks it).
 */
function typedValue(type: string, text: string, name: string, command: string) {
  const base = type.toUpperCase().replace(/<.*$/s, "").trim();
  if (base === "BOOL" || base === "BOOLEAN") {
    const t = text.toLowerCase();
    if (t === "true" || t === "false") return t === "true";
    throw new UsageError(
      `--param ${name}: ${JSON.stringify(text)} is not a BOOL (true or false)`,
      command,
    );
  }
  if (["ARRAY", "STRUCT", "RECORD", "RANGE"].includes(base)) {
    try {
      return JSON.parse(text);
    } catch {
      throw new UsageError(
        `--param ${name}: an ${base} value is written as JSON, e.g. ${
          base === "ARRAY"
            ? "[1,2,3]"
            : base === "RANGE"
            ? '{"start":"2024-01-01","end":null}'
            : '{"x":1}'
        }`,
        command,
      );
    }
  }
  return text;
}

/**
 * Parses the `--param` flags of `command`; `undefined` when there are none.
 * A value that does not fit its type (`d:DATE=tomorrow`) is a usage error
 * too, found here before any login or request.
 */
export async function parseParams(
  specs: string[],
  command: string,
): Promise<CliParams | undefined> {
  const out = parseSpecs(specs, command);
  if (!out) return undefined;
  const { encodeParams } = await import("../dw/params.ts");
  try {
    encodeParams(out.params, out.types);
  } catch (e) {
    if (!(e instanceof CredentialsError) || e.code !== "invalid_input") throw e;
    throw new UsageError(`--param: ${e.message}`, command);
  }
  return out;
}

function parseSpecs(
  specs: string[],
  command: string,
): CliParams | undefined {
  if (!specs.length) return undefined;
  const out: CliParams = { params: {}, types: {} };
  for (const spec of specs) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::([^=]+))?=(.*)$/s.exec(spec);
    if (!m) {
      throw new UsageError(
        `--param ${JSON.stringify(spec)} is not NAME=VALUE or NAME:TYPE=VALUE`,
        command,
      );
    }
    const [, name, type, text] = m;
    if (name in out.params) {
      throw new UsageError(`--param ${name} is given twice`, command);
    }
    if (type === undefined) {
      out.params[name] = inferValue(text);
    } else {
      out.types[name] = type.trim();
      out.params[name] = typedValue(type, text, name, command);
    }
  }
  return out;
}
