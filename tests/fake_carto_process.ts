/**
 * The fake CARTO in a process of its own, for tests that start hundreds of
 * CLI processes: a test process busy with their pipes on a loaded machine
 * must not keep the fake from answering within the CLI's timeouts.
 *
 * Run as a script (by {@linkcode startFakeCartoProcess}), it starts
 * `startFakeCarto`, prints where it listens as one JSON line, then answers
 * one JSON line per question read from stdin, and ends with stdin.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { type FakeRoute, startFakeCarto } from "../src/testing/mod.ts";
import type { FakeCarto } from "../src/testing/mod.ts";

/** What the parent may ask: one of these per line. */
type Question = { count: FakeRoute } | { valid: string[] };

/** A fake CARTO running in a child process. */
export interface FakeCartoProcess {
  readonly endpoints: FakeCarto["endpoints"];
  readonly apiBaseUrl: string;
  readonly credentials: FakeCarto["credentials"];
  /** How many requests reached `route`. */
  count(route: FakeRoute): Promise<number>;
  /** Whether each of `tokens` is an access token the fake issued and accepts. */
  validTokens(tokens: string[]): Promise<boolean[]>;
  /** Stops the process. */
  [Symbol.asyncDispose](): Promise<void>;
}

const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/**
 * Starts the fake CARTO in a child process of this runtime.
 *
 * @example
 * ```ts ignore
 * await using fake = await startFakeCartoProcess();
 * console.log(await fake.count("token"));
 * ```
 */
export async function startFakeCartoProcess(): Promise<FakeCartoProcess> {
  const script = fileURLToPath(import.meta.url);
  const child = spawn(
    process.execPath,
    isDeno ? ["run", "-A", script, "--serve"] : [script, "--serve"],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const exited = new Promise<void>((resolve) => child.once("close", resolve));
  const lines = createInterface({ input: child.stdout! })[
    Symbol.asyncIterator
  ]();
  const next = async (): Promise<unknown> => {
    const { value, done } = await lines.next();
    if (done) throw new Error("the fake CARTO process ended");
    return JSON.parse(value);
  };
  // One question at a time: answers come back in order.
  let queue = Promise.resolve();
  const ask = <T>(question: Question): Promise<T> => {
    const answer = queue.then(() => {
      child.stdin!.write(`${JSON.stringify(question)}\n`);
      return next() as Promise<T>;
    });
    queue = answer.then(() => {}, () => {});
    return answer;
  };
  const info = await next() as Pick<
    FakeCarto,
    "endpoints" | "apiBaseUrl" | "credentials"
  >;
  return {
    ...info,
    count: (route) => ask({ count: route }),
    validTokens: (tokens) => ask({ valid: tokens }),
    async [Symbol.asyncDispose]() {
      child.stdin!.end();
      await exited;
    },
  };
}

async function serve(): Promise<void> {
  await using fake = await startFakeCarto();
  const { endpoints, apiBaseUrl, credentials } = fake;
  const say = (value: unknown) =>
    new Promise((resolve) =>
      process.stdout.write(`${JSON.stringify(value)}\n`, resolve)
    );
  await say({ endpoints, apiBaseUrl, credentials });
  for await (const line of createInterface({ input: process.stdin })) {
    const question = JSON.parse(line) as Question;
    await say(
      "count" in question
        ? fake.count(question.count)
        : question.valid.map((token) => fake.isValidToken(token)),
    );
  }
}

if (process.argv.includes("--serve")) await serve();
