import { requireBuiltin } from "./builtins.ts";

type Readline = typeof import("node:readline");

/**
 * Writes `message` to stderr and reads one line from stdin; `null` at end of
 * input. The default `prompt` of the paste login.
 */
export function terminalPrompt(message: string): Promise<string | null> {
  const readline = requireBuiltin<Readline>(
    "node:readline",
    "Reading the terminal",
  );
  const proc = (globalThis as unknown as {
    process: { stdin: NodeJS.ReadableStream; stderr: NodeJS.WritableStream };
  }).process;
  const rl = readline.createInterface({
    input: proc.stdin,
    output: proc.stderr,
    terminal: false,
  });
  return new Promise((resolve) => {
    let answered = false;
    proc.stderr.write(message);
    rl.once("line", (line) => {
      answered = true;
      rl.close();
      resolve(line);
    });
    rl.once("close", () => {
      if (!answered) resolve(null);
    });
  });
}
