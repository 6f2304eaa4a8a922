/**
 * The CLI's window on the process: environment, standard streams, terminal
 * detection and colours. Deno, Bun and Node all provide `process`.
 */

interface WriteStream {
  isTTY?: boolean;
  columns?: number;
  write(chunk: string, callback?: (error?: Error | null) => void): boolean;
}

interface ReadStream {
  isTTY?: boolean;
  setEncoding(encoding: string): void;
  on(event: "data", listener: (chunk: string) => void): unknown;
  on(event: "end", listener: () => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
}

/** The parts of `process` the CLI uses. */
export interface Proc {
  env: Record<string, string | undefined>;
  stdout: WriteStream;
  stderr: WriteStream;
  stdin: ReadStream;
  platform: string;
  versions: Record<string, string | undefined>;
  exitCode?: number;
  on(event: "SIGINT", listener: () => void): unknown;
  off(event: "SIGINT", listener: () => void): unknown;
  exit(code?: number): never;
  getBuiltinModule?(id: string): unknown;
  argv: string[];
}

/** The running process. */
export const proc: Proc = (globalThis as unknown as { process: Proc }).process;

/** A stream the CLI writes text to, with what it knows about the terminal. */
export interface Output {
  /** Writes `text`; resolves once the runtime has taken it. */
  write(text: string): Promise<void>;
  /** Whether it is a terminal. */
  readonly isTTY: boolean;
  /** Whether to use ANSI colours: a terminal, no `NO_COLOR`, not `TERM=dumb`. */
  readonly color: boolean;
  /** The terminal's width, when it is one. */
  readonly columns?: number;
}

/** Reads an environment variable; empty counts as unset. */
export function env(name: string): string | undefined {
  try {
    const value = proc.env[name];
    return value === "" ? undefined : value;
  } catch {
    return undefined; // Deno without --allow-env
  }
}

function colorAllowed(stream: WriteStream): boolean {
  return !!stream.isTTY && env("NO_COLOR") === undefined &&
    env("TERM") !== "dumb";
}

/** An {@linkcode Output} over `get()`, which is only called on first use (it costs start-up time). */
function output(get: () => WriteStream): Output {
  return {
    write: (text) =>
      new Promise((resolve, reject) => {
        if (text === "") return resolve();
        get().write(text, (error) => error ? reject(error) : resolve());
      }),
    get isTTY() {
      return !!get().isTTY;
    },
    get color() {
      return colorAllowed(get());
    },
    get columns() {
      return get().isTTY ? get().columns : undefined;
    },
  };
}

/** Standard output: data. */
export const stdout: Output = output(() => proc.stdout);
/** Standard error: messages for a person. */
export const stderr: Output = output(() => proc.stderr);

/** Whether stdin is a terminal a person types into. */
export function stdinIsTTY(): boolean {
  return !!proc.stdin.isTTY;
}

/** Whether a prompt may be shown: stdin is a terminal and `CI` is not set. */
export function canPrompt(): boolean {
  return stdinIsTTY() && env("CI") === undefined;
}

/** Reads all of stdin as text. */
export function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    proc.stdin.setEncoding("utf8");
    proc.stdin.on("data", (chunk) => text += chunk);
    proc.stdin.on("end", () => resolve(text));
    proc.stdin.on("error", reject);
  });
}

/** The runtime's name and version, e.g. `deno 2.1.0`. */
export function runtimeVersion(): string {
  const v = proc.versions;
  if (v.bun) return `bun ${v.bun}`;
  if (v.deno) return `deno ${v.deno}`;
  return `node ${v.node}`;
}

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  cyan: [36, 39],
} as const;

/** ANSI styling that does nothing when `out` may not have colours. */
export type Style = Record<keyof typeof CODES, (text: string) => string>;

/** The styles for `out`: ANSI colours on a terminal, plain text otherwise. */
export function style(out: Output): Style {
  const entries = Object.entries(CODES).map(([name, [on, off]]) => [
    name,
    out.color
      ? (text: string) => `\x1b[${on}m${text}\x1b[${off}m`
      : (text: string) => text,
  ]);
  return Object.fromEntries(entries) as Style;
}
