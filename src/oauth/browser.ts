import { requireBuiltin } from "../runtime/builtins.ts";
import { noteCommandLine } from "./login_start.ts";

type ChildProcess = typeof import("node:child_process");

/** What decides whether a browser can be expected on this machine. */
export interface BrowserEnvironment {
  /** `process.platform`: `darwin`, `win32`, `linux`, … */
  platform: string;
  /** Reads an environment variable. */
  env(name: string): string | undefined;
  /** Whether stdin is a terminal. */
  isTerminal: boolean;
}

/**
 * False where no browser can be expected: no terminal, CI, an SSH session, or
 * Linux without a display (WSL is fine: `wslview` opens the Windows browser).
 */
export function browserExpected(e: BrowserEnvironment): boolean {
  if (!e.isTerminal || e.env("CI")) return false;
  if (e.env("SSH_CONNECTION") || e.env("SSH_CLIENT") || e.env("SSH_TTY")) {
    return false;
  }
  if (e.platform === "linux") {
    return !!(e.env("DISPLAY") || e.env("WAYLAND_DISPLAY") ||
      e.env("WSL_DISTRO_NAME"));
  }
  return true;
}

/** The command that opens `url` in the default browser. */
export function openCommand(
  url: string,
  platform: string,
  env: (name: string) => string | undefined,
): [string, ...string[]] {
  if (platform === "darwin") return ["open", url];
  // `start` is a cmd built-in; the empty title keeps the quoted URL from being taken as one.
  if (platform === "win32") {
    return ["cmd", "/d", "/s", "/c", `start "" "${url}"`];
  }
  if (env("WSL_DISTRO_NAME")) return ["wslview", url];
  return ["xdg-open", url];
}

/** The current process's view of {@linkcode BrowserEnvironment}. */
export function currentBrowserEnvironment(): BrowserEnvironment {
  const proc = (globalThis as {
    process?: {
      platform?: string;
      env?: Record<string, string | undefined>;
      stdin?: { isTTY?: boolean };
    };
  }).process;
  return {
    platform: proc?.platform ?? "unknown",
    env: (name) => proc?.env?.[name],
    isTerminal: !!proc?.stdin?.isTTY,
  };
}

/**
 * Opens `url` in the system browser. Rejects when the opener is missing or
 * fails, so the caller can print the URL instead.
 */
export function openSystemBrowser(url: string): Promise<void> {
  const { platform, env } = currentBrowserEnvironment();
  const [command, ...args] = openCommand(url, platform, env);
  return runOpener(command, args, platform === "win32");
}

/**
 * Runs a browser opener (`open`, `xdg-open`, a `BROWSER` command). Resolves
 * when it exits with 0, or is still running after 3 s (a browser started
 * directly); rejects when it cannot start or fails.
 */
export function runOpener(
  command: string,
  args: string[],
  windowsVerbatimArguments = false,
): Promise<void> {
  const { spawn } = requireBuiltin<ChildProcess>(
    "node:child_process",
    "Opening a browser",
  );
  // The command line is readable by every local user: a login link in it is guarded.
  noteCommandLine([command, ...args]);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: "ignore",
      detached: true,
      windowsVerbatimArguments,
    });
    const timer = setTimeout(() => {
      child.unref();
      resolve();
    }, 3000);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      code === 0
        ? resolve()
        : reject(new Error(`${command} exited with code ${code}`));
    });
  });
}
