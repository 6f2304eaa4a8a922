/**
 * How an interactive login looks in the terminal: which flow (browser with
 * the loopback server, or paste), the URL always printed, a spinner while
 * the browser is out.
 */
import type { OpenBrowser, Prompt } from "../oauth/login.ts";
import { env, stderr, stdinIsTTY, style } from "./io.ts";
import { Progress } from "./progress.ts";

/** What `CartoAuth` needs to run a login, and how to end the UI. */
export interface LoginUi {
  options: {
    openBrowser: boolean | OpenBrowser;
    prompt?: Prompt;
    redirectPort?: number;
    log: (message: string) => void;
  };
  /** Stops the spinner. */
  done(): void;
}

/** Options of {@linkcode loginUi}. */
export interface LoginUiOptions {
  /** `--no-browser`: always the paste flow. */
  noBrowser?: boolean;
  /** `--port`: the loopback server's port (0 = any free port). */
  port?: number;
}

/** The `BROWSER`-style command: `CARTO_BROWSER`, else `BROWSER`. */
export function browserCommand(): string | undefined {
  return env("CARTO_BROWSER") ?? env("BROWSER");
}

/**
 * The login UI: with `--no-browser` the paste flow; with `CARTO_BROWSER` or
 * `BROWSER` set, that command opens the URL; else the system browser where
 * one can be expected (not over SSH, in CI, or without a display), otherwise
 * the paste flow.
 */
export async function loginUi(options: LoginUiOptions = {}): Promise<LoginUi> {
  const progress = new Progress();
  const log = (message: string) => progress.log(message);
  const command = browserCommand();
  let pasteReason: string | undefined;
  if (options.noBrowser) pasteReason = "--no-browser";
  else if (!command) {
    const { browserExpected, currentBrowserEnvironment } = await import(
      "../oauth/browser.ts"
    );
    const e = currentBrowserEnvironment();
    if (!browserExpected(e)) pasteReason = noBrowserReason(e.env, e.isTerminal);
  }
  if (pasteReason) {
    const { terminalPrompt } = await import("../runtime/prompt.ts");
    const prompt: Prompt = async (message) => {
      await stderr.write(
        style(stderr).dim(
          `Logging in without a local browser (${pasteReason}).`,
        ) + "\n",
      );
      const answer = await terminalPrompt(message);
      // A terminal echoes the Enter key; piped input does not.
      if (!stdinIsTTY()) await stderr.write("\n");
      return answer;
    };
    return {
      options: { openBrowser: false, prompt, log },
      done: () => progress.stop(),
    };
  }
  const openBrowser: OpenBrowser = async (url) => {
    const s = style(stderr);
    await stderr.write(
      `Opening your browser to log in to CARTO. If it does not open, visit:\n\n  ${
        s.cyan(url)
      }\n\n`,
    );
    try {
      await launch(url, command);
    } catch (e) {
      await stderr.write(
        `${s.yellow("!")} Could not open a browser (${
          (e as Error).message
        }). Open the URL above yourself.\n`,
      );
    }
    progress.start(
      "Waiting for you to finish logging in in the browser… (Ctrl-C to cancel)",
    );
  };
  return {
    options: { openBrowser, redirectPort: options.port, log },
    done: () => progress.stop(),
  };
}

function noBrowserReason(
  get: (name: string) => string | undefined,
  isTerminal: boolean,
): string {
  if (!isTerminal) return "stdin is not a terminal";
  if (get("CI")) return "CI is set";
  if (get("SSH_CONNECTION") || get("SSH_CLIENT") || get("SSH_TTY")) {
    return "SSH session";
  }
  return "no display";
}

/** Opens `url` with `command` (split on spaces; `%s` marks where the URL goes), else the system browser. */
async function launch(url: string, command: string | undefined) {
  const { openSystemBrowser, runOpener } = await import("../oauth/browser.ts");
  if (!command) return await openSystemBrowser(url);
  const words = command.trim().split(/\s+/);
  const args = words.some((w) => w.includes("%s"))
    ? words.map((w) => w.replaceAll("%s", url))
    : [...words, url];
  await runOpener(args[0], args.slice(1));
}
