import { CredentialsError } from "../errors.ts";

/** Exit codes of `carto-auth`. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  auth: 4,
  interrupted: 130,
} as const;

/**
 * A mistake in how the command was called (unknown flag, missing argument,
 * bad value): exit code 2, with a pointer to the command's help.
 */
export class UsageError extends Error {
  /** The command whose `--help` the message points to, e.g. `dw query`. */
  readonly command?: string;
  /** Creates a usage error about `command`. */
  constructor(message: string, command?: string) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

/** A failure the CLI itself reports, with its own exit code. */
export class CliError extends Error {
  /** The process's exit code. */
  readonly exitCode: number;
  /** Creates an error that ends the command with `exitCode`. */
  constructor(message: string, exitCode: number = EXIT.failure) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** The exit code for an error thrown by a command. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof CliError) return error.exitCode;
  const code = error instanceof CredentialsError ? error.code : undefined;
  if (code === "login_required" || code === "invalid_credentials") {
    return EXIT.auth;
  }
  if (code === "aborted") return EXIT.interrupted;
  return EXIT.failure;
}
