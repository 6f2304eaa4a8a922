/**
 * How an interactive login looks in the terminal: which flow (browser with
 * the loopback server, or paste), the URL always printed, a spinner while
 * the browser is out.
 */
import type { OpenBrowser, Prompt } from "../oauth/login.ts";
import { env, stderr, stdinIsTTY, style } from "./io.ts";
import { Progress } from "./progress.ts";
import { safeText } from "./safe_text.ts";

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
  /**
   * Said before a login starts, when a command other than `login` needs
   * one (`dw query` with no login): why a browser or a prompt appears.
   */
  intro?: string;
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
  const log = (message: string) => progress.log(safeText(message));
  const command = browserCommand();
  let pasteReason: string | undefined;
  if (options.noBrowser) pasteReason = "--no-browser";
  else if (!command) {
    const { browserExpected, currentBrowserEnvironment, openCommand } =
      await import("../oauth/browser.ts");
    const e = currentBrowserEnvironment();
    if (!browserExpected(e)) pasteReason = noBrowserReason(e.env, e.isTerminal);
    else {
      // A display but nothing to open a browser with: paste rather than wait 5 minutes.
      const [opener] = openCommand("", e.platform, e.env);
      if (e.platform !== "win32" && !(await onPath(opener))) {
        pasteReason = `a display is set, but ${opener} is not installed`;
      }
    }
  }
  let introduced = !options.intro;
  const introduce = async () => {
    if (introduced) return;
    introduced = true;
    await stderr.write(`${style(stderr).yellow("!")} ${options.intro}\n`);
  };
  if (pasteReason) {
    const { terminalPrompt } = await import("../runtime/prompt.ts");
    const prompt: Prompt = async (message) => {
      await introduce();
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
    await introduce();
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

/**
 * The login UI of a command other than `login` (`token`, `dw query`, `sql`):
 * it says why a login starts before the browser or the prompt appears.
 */
export function commandLoginUi(
  selection: { cached?: unknown },
): Promise<LoginUi> {
  return loginUi({ intro: loginIntro(!!selection.cached) });
}

function loginIntro(expired: boolean): string {
  return expired
    ? "Your CARTO login has expired, so this command logs you in again first " +
      "(as carto-auth login does)."
    : "You are not logged in to CARTO, so this command logs you in first " +
      "(as carto-auth login does).";
}

/** Whether `command` is an executable file in one of the `PATH` folders. */
async function onPath(command: string): Promise<boolean> {
  const { access, constants } = await import("node:fs/promises");
  const dirs = (env("PATH") ?? "").split(":").filter((d) => d);
  for (const dir of dirs) {
    const found = await access(`${dir}/${command}`, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (found) return true;
  }
  return false;
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
