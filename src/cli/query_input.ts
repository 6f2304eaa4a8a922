/** What `dw query` and `sql` share: the SQL argument (or stdin) and Ctrl-C. */
import { UsageError } from "./errors.ts";
import { proc, readStdin, stderr, stdinIsTTY, style } from "./io.ts";

/** The SQL from the argument, or from stdin when it is `-`. */
export async function readSql(arg: string, command: string): Promise<string> {
  let sql = arg;
  if (arg === "-") {
    if (stdinIsTTY()) {
      await stderr.write(
        style(stderr).dim("Reading SQL from stdin; end it with Ctrl-D.") + "\n",
      );
    }
    sql = await readStdin();
  }
  if (!sql.trim()) {
    throw new UsageError(
      arg === "-" ? "no SQL on stdin" : "the SQL is empty",
      command,
    );
  }
  return sql;
}

/**
 * Runs `fn` with a signal that Ctrl-C aborts (a running query is cancelled);
 * a second Ctrl-C exits at once.
 */
export async function interruptible<T>(
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) proc.exit(130);
    void stderr.write("\nCancelling… (Ctrl-C again to quit at once)\n");
    controller.abort(new Error("interrupted"));
  };
  proc.on("SIGINT", onInterrupt);
  try {
    return await fn(controller.signal);
  } finally {
    proc.off("SIGINT", onInterrupt);
  }
}
