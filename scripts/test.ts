/**
 * Runs the whole suite: the tests in Deno, the same files in Bun, and the
 * worker tests in workerd. Ends with one line, `N passed, N failed`, so a run
 * that executed nothing cannot pass for one that passed.
 *
 *   deno task test            everything
 *   deno task test deno       only the Deno run (also: bun, browser, workerd)
 */
import { dirname, join } from "node:path";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";

const root = join(dirname(fromFileUrl(import.meta.url)), "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);

interface Step {
  name: string;
  cmd: string[];
  /** Extra environment; the zones differ from UTC to flush out clock bugs. */
  env?: Record<string, string>;
  counts(output: string): { passed: number; failed: number } | undefined;
}

const steps: Step[] = [
  {
    name: "deno",
    cmd: [Deno.execPath(), "test", "-A", "tests/"],
    env: { TZ: "America/New_York" },
    counts(out) {
      const m =
        /(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/
          .exec(out);
      return m ? { passed: +m[1], failed: +m[2] } : undefined;
    },
  },
  {
    name: "bun",
    cmd: [bin("bun"), "test", "--timeout", "60000", "./tests/"],
    env: { TZ: "Asia/Tokyo" },
    counts(out) {
      const pass = /^\s*(\d+) pass$/m.exec(out);
      const fail = /^\s*(\d+) fail$/m.exec(out);
      return pass && fail ? { passed: +pass[1], failed: +fail[1] } : undefined;
    },
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
    counts: (out) => steps[0].counts(out),
  },
  {
    // The example worker in workerd (miniflare); its name keeps it out of the runs above.
    name: "workerd",
    cmd: [
      Deno.execPath(),
      "test",
      "-A",
      "tests/worker_workerd.ts",
      "tests/worker_durable_object.ts",
    ],
    counts: (out) => steps[0].counts(out),
  },
];

function fromFileUrl(url: string): string {
  return new URL(url).pathname;
}

const only = Deno.args[0];
// Tests never touch the real ~/.carto-auth.
const home = mkdtempSync(join(tmpdir(), "carto-auth-test-home-"));
let passed = 0, failed = 0;
const summary: string[] = [];
for (const step of steps.filter((s) => !only || s.name === only)) {
  console.log(
    `\n=== ${step.name}: ${
      step.cmd.map((c) => c.replace(root + "/", "")).join(" ")
    }`,
  );
  const child = new Deno.Command(step.cmd[0], {
    args: step.cmd.slice(1),
    cwd: root,
    env: { HOME: home, NO_COLOR: "1", ...step.env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const decoder = new TextDecoder();
  const pump = async (
    stream: ReadableStream<Uint8Array>,
    sink: typeof Deno.stdout,
  ) => {
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true });
      await sink.write(chunk);
    }
  };
  await Promise.all([
    pump(child.stdout, Deno.stdout),
    pump(child.stderr, Deno.stderr),
  ]);
  const status = await child.status;
  const counts = step.counts(output);
  if (!counts) {
    summary.push(
      `${step.name}: no test summary (exit ${status.code}) — counted as 1 failure`,
    );
    failed += 1;
    continue;
  }
  if (status.code !== 0 && counts.failed === 0) counts.failed = 1;
  summary.push(
    `${step.name}: ${counts.passed} passed, ${counts.failed} failed`,
  );
  passed += counts.passed;
  failed += counts.failed;
}
console.log(`\n${summary.join("\n")}`);
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(failed === 0 && passed > 0 ? 0 : 1);
