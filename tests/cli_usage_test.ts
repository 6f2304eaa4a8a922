import { test } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { ROOT, setup } from "./cli_helpers.ts";

const COMMANDS = [
  ["login"],
  ["logout"],
  ["status"],
  ["token"],
  ["dw", "credentials"],
  ["dw", "query"],
  ["sql"],
];

test("--help lists every command, the credential order, environment and exit codes", async () => {
  await using s = await setup();
  for (const args of [["--help"], ["-h"], [], ["help"]]) {
    const run = await s.run(args);
    assert.equal(run.code, 0, args.join(" "));
    assert.equal(run.stderr, "");
    for (const cmd of COMMANDS) {
      assert.match(run.stdout, new RegExp(`^ {2}${cmd.join(" ")} +\\S`, "m"));
    }
    assert.match(run.stdout, /Which credentials a command uses/);
    for (
      const v of [
        "CARTO_API_TOKEN",
        "CARTO_CLIENT_ID",
        "CARTO_AUTH_CACHE_DIR",
        "BROWSER",
        "NO_COLOR",
      ]
    ) {
      assert.match(run.stdout, new RegExp(`^ {2}${v} `, "m"));
    }
    assert.match(
      run.stdout,
      /0 ok {3}1 failure {3}2 usage error {3}4 authentication needed/,
    );
  }
});

test("every command has --help with usage, flags and examples, on stdout", async () => {
  await using s = await setup();
  for (const cmd of COMMANDS) {
    for (
      const run of [
        await s.run([...cmd, "--help"]),
        await s.run(["help", ...cmd]),
      ]
    ) {
      assert.equal(run.code, 0, cmd.join(" "));
      assert.equal(run.stderr, "");
      assert.match(
        run.stdout,
        new RegExp(`Usage\\n {2}carto-auth ${cmd.join(" ")}`),
      );
      assert.match(run.stdout, /\nFlags\n/);
      assert.match(run.stdout, /-h, --help +show this help/);
      assert.match(run.stdout, /\nExamples\n {2}\$ .*carto-auth /);
    }
  }
  assert.equal(s.fake.requests.length, 0);
});

test("dw alone lists its commands", async () => {
  await using s = await setup();
  const run = await s.run(["dw"]);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /^ {2}dw credentials +Print/m);
  assert.match(run.stdout, /^ {2}dw query +Run SQL/m);
});

test("--version prints the package version and the runtime", async () => {
  await using s = await setup();
  const { version } = JSON.parse(
    await readFile(join(ROOT, "deno.json"), "utf8"),
  );
  for (const flag of ["--version", "-V"]) {
    const run = await s.run([flag]);
    assert.equal(run.code, 0);
    assert.match(
      run.stdout,
      new RegExp(
        `^carto-auth ${version.replaceAll(".", "\\.")} \\((deno|bun) \\d`,
      ),
    );
  }
});

test("usage errors: exit 2, a message on stderr, a pointer to --help, nothing on stdout", async () => {
  await using s = await setup();
  const cases: [string[], RegExp, string][] = [
    [
      ["logni"],
      /unknown command "logni" \(did you mean "login"\?\)/,
      "carto-auth --help",
    ],
    [["frobnicate"], /unknown command "frobnicate"$/m, "carto-auth --help"],
    [
      ["dw", "querry"],
      /unknown command "dw querry" \(did you mean "dw query"\?\)/,
      "carto-auth dw --help",
    ],
    [
      ["--verbose"],
      /unknown flag --verbose \(flags go after the command\)/,
      "carto-auth --help",
    ],
    [
      ["token", "--m2n"],
      /unknown flag --m2n \(did you mean --m2m\?\)/,
      "carto-auth token --help",
    ],
    [["token", "-x"], /unknown flag -x/, "carto-auth token --help"],
    [
      ["status", "--json=yes"],
      /flag --json does not take a value/,
      "carto-auth status --help",
    ],
    [
      ["status", "extra"],
      /unexpected argument "extra"/,
      "carto-auth status --help",
    ],
    [
      ["login", "--org"],
      /flag --org needs a value \(--org NAME_OR_ID\)/,
      "carto-auth login --help",
    ],
    [
      ["logout", "--everything"],
      /unknown flag --everything/,
      "carto-auth logout --help",
    ],
    [
      ["dw", "credentials", "--format", "csv"],
      /unknown flag --format/,
      "carto-auth dw credentials --help",
    ],
  ];
  for (const [args, message, help] of cases) {
    const run = await s.run(args);
    assert.equal(run.code, 2, args.join(" "));
    assert.equal(run.stdout, "", args.join(" "));
    assert.match(run.stderr, /^Error: /);
    assert.match(run.stderr, message);
    assert.ok(run.stderr.includes(`Run '${help}' for usage.`), run.stderr);
  }
  assert.equal(s.fake.requests.length, 0);
});

test("a bad endpoint override names the variable (exit 2)", async () => {
  await using s = await setup();
  const run = await s.run(["token"], {
    env: { ...s.m2mEnv, CARTO_AUTH_URL: "http://auth.example.com" },
  });
  assert.equal(run.code, 2);
  assert.match(run.stderr, /CARTO_AUTH_URL must use https/);
});

test("no colours without a terminal, even without NO_COLOR", async () => {
  await using s = await setup();
  for (const args of [["status"], ["token"], ["nope"]]) {
    const run = await s.run(args, { env: { NO_COLOR: undefined } });
    assert.ok(!(run.stdout + run.stderr).includes("\x1b["), args.join(" "));
  }
});

test("a network failure says which service could not be reached (exit 1)", async () => {
  await using s = await setup();
  const run = await s.run(["token"], {
    env: { ...s.m2mEnv, CARTO_AUTH_URL: "http://127.0.0.1:9/auth0" },
  });
  assert.equal(run.code, 1);
  assert.match(
    run.stderr,
    /Could not reach .*127\.0\.0\.1:9.*Check your network connection/,
  );
});

test("a server error from CARTO is reported with its status (exit 1)", async () => {
  await using s = await setup();
  s.fake.failNext("token", { status: 500, body: { error: "boom" } }, 5);
  const run = await s.run(["token"], { env: s.m2mEnv });
  assert.equal(run.code, 1);
  assert.match(run.stderr, /500/);
});

test(
  "Deno without permissions: the CLI says which ones it needs",
  { skip: "Deno" in globalThis ? false : "Deno only" },
  async () => {
    await using s = await setup();
    // Through sh: Deno's child_process hands its permissions to a Deno it spawns.
    const run = spawnSync("/bin/sh", ["-c", 'exec "$DENO" run "$CLI" status'], {
      cwd: ROOT,
      env: s.env({
        CARTO_AUTH_CACHE_DIR: undefined,
        DENO: process.execPath,
        CLI: join(ROOT, "cli.ts"),
      }),
      encoding: "utf8",
    });
    assert.equal(run.status, 1);
    assert.match(
      run.stderr,
      /carto-auth needs Deno's permissions: deno run -A/,
    );
    assert.match(run.stderr, /--allow-sys=homedir/);
  },
);
