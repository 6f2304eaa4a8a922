/** A terminal for tests: a tmux session on a private tmux server. */
import { execFileSync } from "node:child_process";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cliCommand, exactEnv } from "./cli_helpers.ts";

const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

/** Makes `<dir>/bin/carto-auth` run this checkout's CLI; returns that bin folder. */
export async function cliOnPath(dir: string): Promise<string> {
  const bin = join(dir, "bin");
  await mkdir(bin, { recursive: true });
  const script = join(bin, "carto-auth");
  const command = cliCommand().map(quote).join(" ");
  await writeFile(script, `#!/bin/sh\nexec ${command} "$@"\n`);
  await chmod(script, 0o755);
  return bin;
}

/** Why tmux cannot be used here, or `false`. */
export function noTmux(): string | false {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return false;
  } catch {
    return "tmux is not installed";
  }
}

/** A 120×40 `sh` in tmux, with exactly `env` as its environment. */
export class TmuxTerminal {
  readonly #env: Record<string, string>;
  readonly #server = `carto-auth-test-${process.pid}-${Date.now()}`;

  constructor(env: Record<string, string>) {
    this.#env = env;
    this.#tmux("new-session", "-d", "-s", "sh", "-x", "120", "-y", "40", "sh");
  }

  #tmux(...args: string[]): string {
    const command = ["tmux", "-L", this.#server, "-f", "/dev/null", ...args];
    const [cmd, ...rest] = exactEnv(this.#env, command);
    return execFileSync(cmd, rest, { env: this.#env, encoding: "utf8" });
  }

  /** What the screen shows, wrapped lines joined. */
  screen(): string {
    return this.#tmux("capture-pane", "-p", "-J", "-t", "sh");
  }

  /** Types `line` and Enter. */
  type(line: string): void {
    this.#tmux("send-keys", "-t", "sh", "-l", line);
    this.#tmux("send-keys", "-t", "sh", "Enter");
  }

  /** The screen once it matches `re`; fails after `timeoutMs`. */
  async waitFor(re: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (let text = this.screen();; text = this.screen()) {
      if (re.test(text)) return text;
      if (Date.now() > deadline) {
        throw new Error(`${re} never appeared on the screen:\n${text}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Ends the session and its tmux server. */
  close(): void {
    this.#tmux("kill-server");
  }
}
