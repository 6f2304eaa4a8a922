// CI must run the README's set-up and test commands as a newcomer types them
// (issue 12): every command of its "Try it" and "Development" blocks is a line
// of .ci/run, and no text file carries a leftover merge-conflict block.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

const root = new URL("..", import.meta.url).pathname;
const read = (path: string) => readFileSync(`${root}${path}`, "utf8");

/** The commands of the first `sh` block under the `## <heading>` of Markdown text. */
function commandsUnder(markdown: string, heading: string): string[] {
  const section = markdown.split(/^## /m).find((s) => s.startsWith(heading));
  const block = section && /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) return [];
  return block.split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => line && !line.startsWith("#"));
}

test("README: every set-up and test command is run verbatim by .ci/run", () => {
  const readme = read("README.md");
  const ci = read(".ci/run").split("\n").map((line) => line.trim());
  const commands = [
    ...commandsUnder(readme, "Try it"),
    ...commandsUnder(readme, "Development"),
  ];
  assert.ok(commands.includes("npm ci"), `found: ${commands.join(" | ")}`);
  assert.ok(commands.includes("npx deno task test"));
  const missing = commands.filter((command) => !ci.includes(command));
  assert.deepEqual(missing, [], "README commands that .ci/run does not run");
});

test("commandsUnder reads a block's commands without their comments", () => {
  const md =
    "## Try it (x)\n\n```sh\nnpm ci   # note\n# a comment\nnpx a && npx b\n```\n" +
    "## Other\n\n```sh\nnot this\n```\n";
  assert.deepEqual(commandsUnder(md, "Try it"), ["npm ci", "npx a && npx b"]);
  assert.deepEqual(commandsUnder(md, "Missing"), []);
});

test("no tracked text file holds a merge-conflict block", () => {
  const files = execFileSync("git", ["ls-files"], {
    cwd: root,
    encoding: "utf8",
  })
    .split("\n")
    .filter((f) => /\.(ts|md|json|toml|yaml|yml)$|^\.ci\//.test(f));
  const marked = files.filter((f) => {
    const text = read(f);
    return /^<{7} |^>{7} /m.test(text) && /^={7}$/m.test(text);
  });
  assert.deepEqual(marked, []);
});
