/**
 * The JSR package as `deno publish` would upload it: the file list of a dry
 * run holds every file the README links to, and nothing of the checkout that
 * users do not need. (CI also runs the dry run on its clean clone, without
 * `--allow-dirty`.)
 *
 * Part of the `integration` run of `deno task test`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ROOT } from "./cli_helpers.ts";

/** The files `deno publish --dry-run` lists, relative to the root. */
async function publishedFiles(): Promise<string[]> {
  const output = await new Promise<string>((resolve, reject) => {
    execFile(
      join(ROOT, "node_modules", ".bin", "deno"),
      // A checkout being worked on is dirty; CI checks the clean clone.
      ["publish", "--dry-run", "--allow-dirty"],
      { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`deno publish failed:\n${stdout}${stderr}`))
          : resolve(stdout + stderr),
    );
  });
  const root = `file://${ROOT.replace(/\/$/, "")}/`;
  return [...output.matchAll(/^\s+(file:\/\/\S+) \(/gm)]
    .map((m) => decodeURIComponent(m[1]).replace(root, ""));
}

/** Relative link targets of a Markdown file (no URLs, no anchors). */
async function relativeLinks(path: string): Promise<string[]> {
  const text = await readFile(join(ROOT, path), "utf8");
  return [...text.matchAll(/\]\((?!https?:|mailto:|#)([^)#\s]+)/g)]
    .map((m) => join(path, "..", m[1]));
}

test("the JSR package holds every file its Markdown links to, and no tests, benchmarks or scripts", async () => {
  const files = await publishedFiles();
  for (
    const entry of [
      "mod.ts",
      "worker.ts",
      "cli.ts",
      "src/testing/mod.ts",
      "LICENSE",
    ]
  ) {
    assert.ok(files.includes(entry), `${entry} is published`);
  }
  const markdown = files.filter((f) => f.endsWith(".md"));
  assert.ok(markdown.includes("README.md"));
  for (const doc of markdown) {
    for (const link of await relativeLinks(doc)) {
      assert.ok(files.includes(link), `${doc} links to ${link}, not published`);
    }
  }
  assert.ok(
    (await relativeLinks("README.md")).length > 0,
    "the README's links were found",
  );
  assert.deepEqual(
    files.filter((f) => /^(tests|bench|scripts|dist)\/|_test\.ts$/.test(f)),
    [],
  );
});
