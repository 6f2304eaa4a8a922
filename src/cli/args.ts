/** Flag parsing (`node:util` `parseArgs`) and help text for the commands. */
import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";

/** One flag of a command. */
export interface Flag {
  type: "boolean" | "string";
  short?: string;
  /** May be given more than once (values are collected in order). */
  multiple?: boolean;
  /** Placeholder of the value in the help, e.g. `FILE`. */
  arg?: string;
  help: string;
}

/** What a command accepts, and its help. */
export interface CommandSpec {
  /** The words after `carto-auth`, e.g. `dw query`. */
  name: string;
  /** One line, shown in the list of commands. */
  summary: string;
  /** What follows the name in the usage line, e.g. `SQL [flags]`. */
  usage: string;
  /** Paragraphs after the summary. */
  description?: string;
  flags: Record<string, Flag>;
  /** How many positional arguments, default none. */
  positionals?: { min: number; max: number; names: string };
  examples: string[];
}

/** Parsed flags (by long name) and positional arguments. */
export interface Parsed {
  flags: Record<string, string | boolean | string[] | undefined>;
  args: string[];
}

const HELP_FLAG: Flag = { type: "boolean", short: "h", help: "show this help" };

/**
 * Parses `argv` for `spec`; `undefined` when `--help` was asked for. Unknown
 * flags, missing values and a wrong number of arguments are
 * {@linkcode UsageError}s.
 */
export function parse(spec: CommandSpec, argv: string[]): Parsed | undefined {
  const flags = { ...spec.flags, help: HELP_FLAG };
  let result;
  try {
    result = parseArgs({
      args: withNegativeValues(argv, flags),
      options: Object.fromEntries(
        Object.entries(flags).map(([name, f]) => [name, {
          type: f.type,
          ...(f.short ? { short: f.short } : {}),
          ...(f.multiple ? { multiple: true } : {}),
        }]),
      ),
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(parseError(e as Error, flags), spec.name);
  }
  if (result.values.help) return undefined;
  const { min, max, names } = spec.positionals ??
    { min: 0, max: 0, names: "" };
  const args = result.positionals;
  if (args.length < min) {
    throw new UsageError(`missing ${names}`, spec.name);
  }
  if (args.length > max) {
    const extra = args.slice(max).map((a) => JSON.stringify(a)).join(" ");
    throw new UsageError(
      max === 0
        ? `unexpected argument ${extra}`
        : `too many arguments: ${extra}${
          spec.name.endsWith("query") || spec.name === "sql"
            ? " (quote the SQL as one argument)"
            : ""
        }`,
      spec.name,
    );
  }
  return { flags: result.values as Parsed["flags"], args };
}

/**
 * `--max-rows -1` as `--max-rows=-1`: `parseArgs` takes a value that starts
 * with `-` for a flag and says the value is missing, where the person gave
 * one that the command should judge ("must be a positive integer").
 */
function withNegativeValues(
  argv: string[],
  flags: Record<string, Flag>,
): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (word === "--") return [...out, ...argv.slice(i)];
    const name = /^--([^=]+)$/.exec(word)?.[1] ??
      Object.keys(flags).find((n) =>
        flags[n].short !== undefined && word === `-${flags[n].short}`
      );
    const next = argv[i + 1];
    if (
      name !== undefined && flags[name]?.type === "string" &&
      next !== undefined && /^-\d/.test(next)
    ) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(word);
  }
  return out;
}

function parseError(e: Error, flags: Record<string, Flag>): string {
  const code = (e as { code?: string }).code;
  // "Option '-f, --format <value>' argument missing", "Unknown option '--foo'"
  const option = /option '(?:-\w, )?(-{1,2}[^' ,]+)/i.exec(e.message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option) {
    const name = option.replace(/^-+/, "");
    const guess = closest(name, Object.keys(flags));
    return `unknown flag ${option}${
      guess ? ` (did you mean --${guess}?)` : ""
    }`;
  }
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option) {
    const name = option.replace(/^-+/, "");
    const flag = flags[name] ??
      Object.values(flags).find((f) => f.short === name);
    return flag?.type === "boolean"
      ? `flag ${option} does not take a value`
      : `flag ${option} needs a value${
        flag?.arg ? ` (${option} ${flag.arg})` : ""
      }`;
  }
  return e.message;
}

/** The candidate within edit distance 2 of `word`, if any. */
export function closest(
  word: string,
  candidates: string[],
): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = distance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        row[j] + 1,
        next[j - 1] + 1,
        row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length];
}

/** A flag's value as an integer in `[min, max]`, or a {@linkcode UsageError}. */
export function intFlag(
  value: string | undefined,
  flag: string,
  command: string,
  range: { min: number; max: number },
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < range.min || n > range.max) {
    const what = range.min === 1 && range.max === Number.MAX_SAFE_INTEGER
      ? "a positive integer"
      : `a whole number from ${range.min} to ${range.max}`;
    throw new UsageError(
      `--${flag} must be ${what}, not ${JSON.stringify(value)}`,
      command,
    );
  }
  return n;
}

/** Fails when more than one of `names` was given. */
export function exclusive(parsed: Parsed, command: string, names: string[]) {
  const given = names.filter((n) =>
    parsed.flags[n] !== undefined && parsed.flags[n] !== false
  );
  if (given.length > 1) {
    throw new UsageError(
      `${given.map((n) => `--${n}`).join(" and ")} cannot be used together`,
      command,
    );
  }
}

/** The help text of `spec`. */
export function helpText(spec: CommandSpec): string {
  const flags = { ...spec.flags, help: HELP_FLAG };
  const rows = Object.entries(flags).map(([name, f]) => {
    const short = f.short ? `-${f.short}, ` : "    ";
    return [`${short}--${name}${f.arg ? ` ${f.arg}` : ""}`, f.help];
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  const lines = [
    spec.summary,
    ...(spec.description ? ["", spec.description] : []),
    "",
    "Usage",
    `  carto-auth ${spec.name} ${spec.usage}`.trimEnd(),
    "",
    "Flags",
    ...rows.map(([left, help]) => `  ${left.padEnd(width)}${help}`),
    "",
    "Examples",
    ...spec.examples.map((e) => `  ${e}`),
    "",
    "Every command also takes --profile NAME (the logins of that profile).",
    "Environment variables and exit codes: carto-auth --help",
    "",
  ];
  return lines.join("\n");
}
