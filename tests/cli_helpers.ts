/**
 * Runs the `carto-auth` CLI as a subprocess (Deno or Bun, whichever runs the
 * tests) against the fake CARTO, with a private HOME and token cache.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatTokenFile } from "../src/stores/file.ts";
import type { StoredToken } from "../src/stores/types.ts";
import { type FakeCarto, startFakeCarto } from "../src/testing/mod.ts";
import type { FakeCartoOptions } from "../src/testing/mod.ts";

/** The repository's root folder. */
export const ROOT: string = decodeURIComponent(
  new URL("..", import.meta.url).pathname,
);
const CLI = join(ROOT, "cli.ts");
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/** The command that runs the CLI in this runtime: `deno run -A cli.ts` or `bun cli.ts`. */
export function cliCommand(): string[] {
  return isDeno
    ? [process.execPath, "run", "-A", CLI]
    : [process.execPath, CLI];
}

/** What a finished run printed and its exit code. */
export interface Run {
  code: number | null;
  /** The signal that ended the process, if one did. */
  signal?: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment variables of the host that would change what the CLI does. */
const SCRUBBED = [
  /^CARTO_/,
  /^CI$/,
  /^BROWSER$/,
  /^DISPLAY$/,
  /^WAYLAND_DISPLAY$/,
  /^SSH_/,
  /^WSL_DISTRO_NAME$/,
  /^NO_COLOR$/,
  /^TERM$/,
];

/** A private environment: HOME and cache in `dir`, endpoints of `fake`, then `extra` (undefined removes). */
export function cliEnv(
  dir: string,
  fake: Pick<FakeCarto, "endpoints"> | undefined,
  extra: Record<string, string | undefined> = {},
): Record<string, string> {
  const env: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!SCRUBBED.some((re) => re.test(k))) env[k] = v;
  }
  Object.assign(env, {
    HOME: dir,
    USERPROFILE: dir,
    NO_COLOR: "1",
    CARTO_AUTH_CACHE_DIR: join(dir, ".carto-auth"),
  });
  if (fake) {
    Object.assign(env, {
      CARTO_AUTH_URL: fake.endpoints.auth,
      CARTO_ACCOUNTS_URL: fake.endpoints.accounts,
      CARTO_BIGQUERY_URL: fake.endpoints.bigquery,
    });
  }
  Object.assign(env, extra);
  return Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined),
  ) as Record<string, string>;
}

/** Fails when `text` holds anything that looks like a token or the fake's client secret. */
export function assertNoSecrets(text: string, where = "output"): void {
  assert.doesNotMatch(text, /eyJ[\w-]+\.[\w-]+/, `a JWT leaked in ${where}`);
  assert.doesNotMatch(text, /ya29\./, `a DW token leaked in ${where}`);
  assert.doesNotMatch(
    text,
    /rt-[\w-]{8,}/,
    `a refresh token leaked in ${where}`,
  );
  assert.doesNotMatch(
    text,
    /fake-client-secret/,
    `the secret leaked in ${where}`,
  );
}

/**
 * `command` run through `env -i` with exactly `env`: Deno's `child_process`
 * merges the `env` option into the parent's environment, so a variable left
 * out (CI, NO_COLOR, SSH_…) would otherwise still reach the child.
 */
export function exactEnv(
  env: Record<string, string>,
  command: string[],
): string[] {
  return [
    "env",
    "-i",
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    ...command,
  ];
}

/** A CLI process the test talks to while it runs. */
export class CliProcess {
  stdout = "";
  stderr = "";
  readonly done: Promise<Run>;
  readonly #child: ReturnType<typeof spawn>;
  #waiters: (() => void)[] = [];

  /** Starts `carto-auth args…` with `env`; a run not over after `killAfterMs` is killed. */
  constructor(
    args: string[],
    env: Record<string, string>,
    killAfterMs = 60_000,
  ) {
    const [cmd, ...rest] = exactEnv(env, [...cliCommand(), ...args]);
    this.#child = spawn(cmd, rest, {
      cwd: ROOT,
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.#child.stdout!.setEncoding("utf8");
    this.#child.stderr!.setEncoding("utf8");
    this.#child.stdout!.on("data", (c: string) => this.#append("stdout", c));
    this.#child.stderr!.on("data", (c: string) => this.#append("stderr", c));
    // Never let a stuck CLI hang the suite.
    const guard = setTimeout(() => this.kill(), killAfterMs);
    this.done = new Promise((resolve, reject) => {
      this.#child.once("error", reject);
      this.#child.once("close", (code, signal) => {
        clearTimeout(guard);
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  #append(stream: "stdout" | "stderr", chunk: string) {
    this[stream] += chunk;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Waits until `stream` matches `re`; fails after `timeoutMs` showing what came. */
  async waitFor(
    stream: "stdout" | "stderr",
    re: RegExp,
    timeoutMs = 20_000,
  ): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    this.done.then(() => exited = true, () => exited = true);
    while (true) {
      const m = re.exec(this[stream]);
      if (m) return m;
      if (exited || Date.now() > deadline) {
        throw new Error(
          `no ${re} on ${stream} (${
            exited ? "the CLI exited" : "timed out"
          });\n` +
            `stdout: ${this.stdout}\nstderr: ${this.stderr}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Writes `text` to the CLI's stdin. */
  write(text: string): void {
    this.#child.stdin!.write(text);
  }

  /** Closes the CLI's stdin. */
  end(): void {
    this.#child.stdin!.end();
  }

  /** Sends `signal` to the process (Ctrl-C is SIGINT). */
  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  /** Stops the process (when a test fails half-way). */
  kill(): void {
    if (this.#child.exitCode === null) this.#child.kill();
  }
}

/** Runs `carto-auth args…` to the end; `input` goes to stdin (then it is closed). */
export async function runCli(
  args: string[],
  env: Record<string, string>,
  input = "",
  killAfterMs?: number,
): Promise<Run> {
  const cli = new CliProcess(args, env, killAfterMs);
  cli.write(input);
  cli.end();
  const run = await cli.done;
  assertNoSecrets(run.stderr, `the stderr of carto-auth ${args.join(" ")}`);
  return run;
}

/** A fake CARTO, a private HOME and a runner bound to both. */
export interface Setup {
  fake: FakeCarto;
  /** The private HOME. */
  dir: string;
  /** The token cache folder (CARTO_AUTH_CACHE_DIR). */
  cacheDir: string;
  /** The environment of a run, with `extra` on top. */
  env(extra?: Record<string, string | undefined>): Record<string, string>;
  /** Runs the CLI in that environment. */
  run(
    args: string[],
    options?: { env?: Record<string, string | undefined>; input?: string },
  ): Promise<Run>;
  /** M2M variables for the fake's client. */
  m2mEnv: Record<string, string>;
  /** Writes the fake's M2M credentials file (Python format) and returns its path. */
  credentialsFile(overrides?: Record<string, unknown>): Promise<string>;
  /** Writes a token file into the cache, as this library writes them. */
  writeToken(key: "oauth" | "m2m", token: StoredToken): Promise<string>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts a fake CARTO and makes a private HOME for one test. */
export async function setup(options: FakeCartoOptions = {}): Promise<Setup> {
  const fake = await startFakeCarto(options);
  const dir = await mkdtemp(join(tmpdir(), "carto-auth-cli-"));
  const cacheDir = join(dir, ".carto-auth");
  const env = (extra: Record<string, string | undefined> = {}) =>
    cliEnv(dir, fake, extra);
  return {
    fake,
    dir,
    cacheDir,
    env,
    run: (args, o = {}) => runCli(args, env(o.env), o.input),
    m2mEnv: {
      CARTO_CLIENT_ID: fake.credentials.clientId,
      CARTO_CLIENT_SECRET: fake.credentials.clientSecret,
      CARTO_API_BASE_URL: fake.credentials.apiBaseUrl,
    },
    async credentialsFile(overrides = {}) {
      const path = join(dir, "carto_credentials.json");
      await writeFile(
        path,
        JSON.stringify({
          api_base_url: fake.credentials.apiBaseUrl,
          client_id: fake.credentials.clientId,
          client_secret: fake.credentials.clientSecret,
          ...overrides,
        }),
        { mode: 0o600 },
      );
      return path;
    },
    async writeToken(key, token) {
      await mkdir(cacheDir, { recursive: true, mode: 0o700 });
      const path = join(cacheDir, `token_${key}.json`);
      await writeFile(path, formatTokenFile(token), { mode: 0o600 });
      return path;
    },
    async [Symbol.asyncDispose]() {
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A {@linkcode setup} whose `q` runs commands as the fake's M2M client (from the environment). */
export async function m2mSetup(): Promise<
  Setup & { q(args: string[], input?: string): Promise<Run> }
> {
  const s = await setup();
  return Object.assign(s, {
    q: (args: string[], input?: string) =>
      s.run(args, { env: s.m2mEnv, input }),
  });
}

/** A JWT-shaped token (unsigned) with `claims`, as the fake issues them. */
export function fakeJwt(claims: Record<string, unknown>): string {
  // base64url of the UTF-8 bytes, as a real issuer encodes them.
  const b64 = (s: string) =>
    btoa(String.fromCharCode(...new TextEncoder().encode(s)))
      .replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
  return `${b64(JSON.stringify({ alg: "RS256", typ: "JWT" }))}.${
    b64(JSON.stringify(claims))
  }.sig`;
}

/** Unix seconds now. */
export const now = (): number => Math.floor(Date.now() / 1000);
