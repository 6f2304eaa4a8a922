/**
 * Runs the whole suite: the tests in Deno, the same files in Bun, the login
 * in headless Chromium, and the integration tests (the worker in workerd and
 * under wrangler, the examples, the published packages).
 *
 * Those runs go side by side, each with two files at once: most tests wait on
 * sockets, timers and child processes rather than on the CPU. The files that
 * measure time against a short budget (the fault matrix's 600 ms timeouts, 200
 * CLI processes racing for a lock) run afterwards, one runtime at a time, with
 * nothing else of the suite beside them.
 *
 * A run that passes prints one line; one that fails prints all it wrote, so
 * the server errors that fault tests provoke on purpose stay out of a green
 * run. Every run's output is kept in `.tmp/test/<run>.log`. Ends with one
 * line, `N passed, N failed`, so a run that executed nothing cannot pass for
 * one that passed.
 *
 *   deno task test            everything
 *   deno task test deno       only the Deno runs (also: bun, browser, integration)
 */
import { dirname, join } from "node:path";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";

const root = join(dirname(new URL(import.meta.url).pathname), "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const logs = join(root, ".tmp", "test");

/** Test files each run has going at once. */
const FILES_AT_ONCE = 2;

/** Files whose tests hold to short time budgets: run alone (see above). */
const TIMING_BOUND = ["tests/faults_test.ts", "tests/cli_load_test.ts"];

interface Step {
  name: string;
  cmd: string[];
  /** Runs after the others, when nothing else of the suite runs. */
  alone?: boolean;
  /** Extra environment; the zones differ from UTC to flush out clock bugs. */
  env?: Record<string, string>;
  counts(output: string): { passed: number; failed: number } | undefined;
}

const denoCounts = (out: string) => {
  const m = /(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/
    .exec(out);
  return m ? { passed: +m[1], failed: +m[2] } : undefined;
};

const bunCounts = (out: string) => {
  const pass = /^\s*(\d+) pass$/m.exec(out);
  const fail = /^\s*(\d+) fail$/m.exec(out);
  return pass && fail ? { passed: +pass[1], failed: +fail[1] } : undefined;
};

const steps: Step[] = [
  {
    name: "deno",
    cmd: [
      Deno.execPath(),
      "test",
      "-A",
      "--parallel",
      `--ignore=${TIMING_BOUND.join(",")}`,
      "tests/",
    ],
    env: { TZ: "America/New_York", DENO_JOBS: String(FILES_AT_ONCE) },
    counts: denoCounts,
  },
  {
    name: "bun",
    cmd: [
      bin("bun"),
      "test",
      "--timeout",
      "60000",
      `--parallel=${FILES_AT_ONCE}`,
      ...TIMING_BOUND.map((f) => `--path-ignore-patterns=${f}`),
      "./tests/",
    ],
    env: { TZ: "Asia/Tokyo" },
    counts: bunCounts,
  },
  {
    // The login in headless Chromium (tests/browser_*.ts, issue 15): Deno
    // only, as the slowest part; the names keep them out of the runs above.
    name: "browser",
    cmd: [
      Deno.execPath(),
      "test",
      "-A",
      "tests/browser_login.ts",
      "tests/browser_cli.ts",
    ],
    counts: denoCounts,
  },
  {
    // Each file once, by Deno; their names keep them out of the runs above.
    name: "integration",
    cmd: [
      Deno.execPath(),
      "test",
      "-A",
      "--parallel",
      "tests/worker_workerd.ts", // the example worker in workerd (miniflare)
      "tests/worker_workerd_queries.ts", // … what its SQL routes accept
      "tests/worker_workerd_kv.ts", // the KV store over workerd's KV
      "tests/worker_durable_object.ts", // the Durable Object store in workerd
      "tests/worker_bundles.ts", // … bundled by wrangler and deno bundle
      "tests/examples.ts", // the examples, run as their READMEs say
      "tests/npm_package.ts", // the npm package under Node alone
      "tests/jsr_package.ts", // the JSR package's files
    ],
    env: { DENO_JOBS: String(FILES_AT_ONCE) },
    counts: denoCounts,
  },
  {
    name: "deno-timing",
    cmd: [Deno.execPath(), "test", "-A", ...TIMING_BOUND],
    env: { TZ: "America/New_York" },
    alone: true,
    counts: denoCounts,
  },
  {
    name: "bun-timing",
    cmd: [
      bin("bun"),
      "test",
      "--timeout",
      "60000",
      ...TIMING_BOUND.map((f) => `./${f}`),
    ],
    env: { TZ: "Asia/Tokyo" },
    alone: true,
    counts: bunCounts,
  },
];

interface Outcome {
  line: string;
  passed: number;
  failed: number;
  output: string;
}

async function run(step: Step, home: string): Promise<Outcome> {
  const started = performance.now();
  const child = new Deno.Command(step.cmd[0], {
    args: step.cmd.slice(1),
    cwd: root,
    env: { HOME: home, DENO_DIR: denoDir, NO_COLOR: "1", ...step.env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // One text in the order it was written, stdout and stderr interleaved.
  let output = "";
  const decoder = new TextDecoder();
  const read = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true });
    }
  };
  const [status] = await Promise.all([
    child.status,
    read(child.stdout),
    read(child.stderr),
  ]);
  writeFileSync(join(logs, `${step.name}.log`), output);
  const took = `${((performance.now() - started) / 1000).toFixed(0)} s`;
  const counts = step.counts(output);
  if (!counts) {
    return {
      line:
        `${step.name}: no test summary (exit ${status.code}, ${took}) — counted as 1 failure`,
      passed: 0,
      failed: 1,
      output,
    };
  }
  if (status.code !== 0 && counts.failed === 0) counts.failed = 1;
  return {
    line:
      `${step.name}: ${counts.passed} passed, ${counts.failed} failed (${took})`,
    ...counts,
    output,
  };
}

const only = Deno.args[0];
const chosen = steps.filter((s) =>
  !only || s.name === only || s.name === `${only}-timing`
);
if (chosen.length === 0) {
  console.error(
    `No run named ${only}; the runs are ${
      steps.map((s) => s.name).join(", ")
    }.`,
  );
  Deno.exit(2);
}
// Tests never touch the real ~/.carto-auth. Deno's cache stays where it was
// (not under the temporary HOMEs of the tests), so the many `deno run`s of
// the CLI do not compile its modules again each time.
const denoDir = Deno.env.get("DENO_DIR") ??
  join(homedir(), ".cache", "deno");
const home = mkdtempSync(join(tmpdir(), "carto-auth-test-home-"));
mkdirSync(logs, { recursive: true });
for (const step of chosen) {
  console.log(`${step.name}: ${step.cmd.join(" ").replaceAll(root + "/", "")}`);
}
const report = async (step: Step) => {
  const outcome = await run(step, home);
  if (outcome.failed > 0) {
    console.log(`\n=== ${step.name} failed; its whole output:\n`);
    console.log(outcome.output);
  }
  console.log(outcome.line);
  return outcome;
};
const outcomes = await Promise.all(chosen.filter((s) => !s.alone).map(report));
for (const step of chosen.filter((s) => s.alone)) {
  outcomes.push(await report(step));
}
const passed = outcomes.reduce((n, o) => n + o.passed, 0);
const failed = outcomes.reduce((n, o) => n + o.failed, 0);
console.log(`\nOutput of each run: ${logs.replace(root + "/", "")}/<run>.log`);
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed === 0 && passed > 0 ? 0 : 1);
