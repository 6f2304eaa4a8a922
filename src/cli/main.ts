/**
 * `carto-auth`: finds the command, parses its flags, runs it, and turns
 * errors into a message on stderr and an exit code. Commands are loaded on
 * demand so that `token` starts fast.
 */
import {
  closest,
  type CommandSpec,
  helpText,
  parse,
  type Parsed,
} from "./args.ts";
import { CredentialsError } from "../errors.ts";
// Discovery's YAML parser, the login in a browser, the token files.
import "../extras_full.ts";
import { CliError, EXIT, exitCodeOf, UsageError } from "./errors.ts";
import { env, stderr, stdout, style } from "./io.ts";
import { safeText } from "./safe_text.ts";

/** A command: its flags and help, and what it does. */
export interface Command {
  spec: CommandSpec;
  run(parsed: Parsed): Promise<number>;
}

const COMMANDS: Record<string, () => Promise<Command>> = {
  login: () => import("./commands/login.ts").then((m) => m.login),
  logout: () => import("./commands/logout.ts").then((m) => m.logout),
  status: () => import("./commands/status.ts").then((m) => m.status),
  use: () => import("./commands/use.ts").then((m) => m.use),
  token: () => import("./commands/token.ts").then((m) => m.token),
  "dw credentials": () =>
    import("./commands/dw.ts").then((m) => m.dwCredentials),
  "dw query": () => import("./commands/dw.ts").then((m) => m.dwQuery),
  sql: () => import("./commands/sql.ts").then((m) => m.sql),
};

const GROUPS = new Set(["dw"]);

/** Runs `carto-auth` with `argv` (without the program name); resolves with the exit code. */
export async function main(words: string[]): Promise<number> {
  let command: string | undefined;
  try {
    const { takeProfileFlag } = await import("./profiles.ts");
    const argv = takeProfileFlag(words);
    const [first, second] = argv;
    if (first === undefined || first === "--help" || first === "-h") {
      await stdout.write(await rootHelp());
      return EXIT.ok;
    }
    if (first === "--version" || first === "-V" || first === "version") {
      await stdout.write(`${await versionText()}\n`);
      return EXIT.ok;
    }
    if (first === "help") {
      return await main([...argv.slice(1), "--help"]);
    }
    if (first.startsWith("-")) {
      throw new UsageError(
        `unknown flag ${first} (flags go after the command)`,
      );
    }
    let rest = argv.slice(1);
    command = first;
    if (GROUPS.has(first)) {
      if (second === undefined || second === "--help" || second === "-h") {
        await stdout.write(await groupHelp(first));
        return EXIT.ok;
      }
      command = `${first} ${second}`;
      rest = argv.slice(2);
    }
    const load = COMMANDS[command];
    if (!load) {
      const names = [...Object.keys(COMMANDS), ...GROUPS];
      const guess = closest(command, names);
      const bad = command;
      command = GROUPS.has(first) ? first : undefined;
      throw new UsageError(
        `unknown command "${bad}"${guess ? ` (did you mean "${guess}"?)` : ""}`,
        command,
      );
    }
    const cmd = await load();
    const parsed = parse(cmd.spec, rest);
    if (!parsed) {
      await stdout.write(helpText(cmd.spec));
      return EXIT.ok;
    }
    return await cmd.run(parsed);
  } catch (e) {
    const error = forPeople(e);
    await report(error);
    return exitCodeOf(error);
  }
}

/** Library errors whose advice is for code (`openBrowser: false`), said for the CLI. */
function forPeople(e: unknown): unknown {
  const cause = (e as { cause?: { code?: string } })?.cause;
  if (e instanceof CredentialsError && cause?.code === "EADDRINUSE") {
    const port = /Port (\d+)/.exec(e.message)?.[1] ?? "10000";
    return new CliError(
      `Port ${port} on localhost is already in use, so the login cannot receive the ` +
        `browser's answer. Is another carto-auth login running? Close it and try again, ` +
        `or log in without the local server: carto-auth login --no-browser (or pick ` +
        `another port with --port N).`,
      EXIT.failure,
    );
  }
  return e;
}

async function report(e: unknown): Promise<void> {
  const s = style(stderr);
  // Server-provided text (errors of BigQuery, the SQL API, a login callback) is shown, never obeyed.
  const message = safeText(e instanceof Error ? e.message : String(e));
  let text = `${s.red("Error:")} ${message}\n`;
  const name = (e as { name?: string })?.name;
  if (name === "NotCapable" || name === "PermissionDenied") {
    text += "carto-auth needs Deno's permissions: deno run -A …, or " +
      "--allow-net --allow-env --allow-read --allow-write --allow-run --allow-sys=homedir,uid,hostname\n";
  } else if (e instanceof UsageError) {
    text += `Run 'carto-auth ${
      e.command ? `${e.command} ` : ""
    }--help' for usage.\n`;
  } else if (
    !(e instanceof CredentialsError) && !(e instanceof CliError)
  ) {
    const debug = env("CARTO_AUTH_DEBUG");
    text += debug
      ? `${(e as Error)?.stack}\n`
      : s.dim("Set CARTO_AUTH_DEBUG=1 to see where it happened.\n");
  }
  await stderr.write(text);
}

async function versionText(): Promise<string> {
  const { default: config } = await import("../../deno.json", {
    with: { type: "json" },
  });
  const { runtimeVersion } = await import("./io.ts");
  return `carto-auth ${config.version} (${runtimeVersion()})`;
}

async function commandList(prefix = ""): Promise<string> {
  const names = Object.keys(COMMANDS).filter((n) => n.startsWith(prefix));
  const specs = await Promise.all(
    names.map(async (n) => (await COMMANDS[n]()).spec),
  );
  const width = Math.max(...names.map((n) => n.length)) + 3;
  return specs.map((s) => `  ${s.name.padEnd(width)}${s.summary}`).join("\n");
}

async function groupHelp(group: string): Promise<string> {
  return [
    `Commands for the CARTO Data Warehouse (BigQuery).`,
    "",
    "Usage",
    `  carto-auth ${group} <command> [flags]`,
    "",
    "Commands",
    await commandList(`${group} `),
    "",
    `Run 'carto-auth ${group} <command> --help' for a command's flags and examples.`,
    "",
  ].join("\n");
}

async function rootHelp(): Promise<string> {
  const { ENVIRONMENT } = await import("./config.ts");
  const width = Math.max(
    ...ENVIRONMENT.map(([n]) => n.length).filter((n) => n <= 24),
  ) + 3;
  const envLines = ENVIRONMENT.map(([name, meaning]) =>
    name.length + 2 > width
      ? `  ${name}\n  ${"".padEnd(width)}${meaning}`
      : `  ${name.padEnd(width)}${meaning}`
  );
  return [
    "carto-auth: log in to CARTO and query the CARTO Data Warehouse.",
    "",
    "Usage",
    "  carto-auth <command> [flags]",
    "",
    "Commands",
    await commandList(),
    "",
    "Flags",
    "  -h, --help         show help (also: carto-auth <command> --help)",
    "  -V, --version      show the version",
    "  --profile NAME     use the logins of profile NAME (any command; see below)",
    "",
    "Profiles",
    "  Several accounts live side by side: carto-auth login --profile work, then",
    "  --profile work, CARTO_PROFILE=work, or carto-auth use work to make it the",
    "  default. The default profile keeps the Python package's files.",
    "",
    "Which credentials a command uses",
    "  1. CARTO_API_TOKEN, when set;",
    "  2. M2M with --m2m or --credentials FILE, or when CARTO_CLIENT_ID and",
    "     CARTO_CLIENT_SECRET are set;",
    "  3. otherwise your login (carto-auth login), else a cached M2M login.",
    "",
    "Environment",
    ...envLines,
    "",
    "Exit codes",
    "  0 ok   1 failure   2 usage error   4 authentication needed   130 interrupted",
    "",
    "Examples",
    "  $ carto-auth login",
    '  $ carto-auth dw query "SELECT 1 AS n"',
    '  $ curl -H "Authorization: Bearer $(carto-auth token)" https://gcp-us-east1.api.carto.com/v3/maps',
    "",
  ].join("\n");
}
