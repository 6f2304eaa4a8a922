/**
 * Profiles: several accounts side by side. The default profile keeps the
 * Python package's two files; `--profile NAME`, `CARTO_PROFILE` and
 * `carto-auth use NAME` choose another, whose files live in
 * `profiles/NAME/`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { formatTokenFile } from "../src/stores/file.ts";
import { CliProcess, fakeJwt, now, type Setup, setup } from "./cli_helpers.ts";

const exists = (path: string) => stat(path).then(() => true, () => false);

/** Logs the fake's M2M client in to `profile` with the credentials file. */
async function m2mLogin(s: Setup, profile: string) {
  const file = await s.credentialsFile();
  return await s.run([
    "login",
    "--m2m",
    "--credentials",
    file,
    "--profile",
    profile,
  ]);
}

test("login --profile NAME keeps its files in profiles/NAME, beside the Python-compatible ones", async () => {
  await using s = await setup();
  const run = await m2mLogin(s, "staging");
  assert.equal(run.code, 0, run.stderr);
  const file = join(s.cacheDir, "profiles", "staging", "token_m2m.json");
  assert.match(run.stderr, /^ {2}Profile: +staging$/m);
  assert.match(run.stderr, new RegExp(`Saved to: +${file}`));
  assert.match(
    run.stderr,
    /Commands use this login with --profile staging \(or CARTO_PROFILE=staging\); to use it by default: carto-auth use staging/,
  );
  assert.ok(await exists(file));
  // The default profile (Python's files) is untouched.
  assert.deepEqual(
    (await readdir(s.cacheDir)).filter((f) => f.startsWith("token_")),
    [],
  );
  const mode = (await stat(join(s.cacheDir, "profiles", "staging"))).mode;
  assert.equal(mode & 0o777, 0o700);
});

test("--profile, CARTO_PROFILE and `use` choose the profile; the default stays Python's", async () => {
  await using s = await setup();
  assert.equal((await m2mLogin(s, "staging")).code, 0);
  const staging = JSON.parse(
    await readFile(
      join(s.cacheDir, "profiles", "staging", "token_m2m.json"),
      "utf8",
    ),
  ).access_token;
  for (
    const [args, env] of [
      [["token", "--m2m", "--profile", "staging"], {}],
      [["token", "--profile=staging", "--m2m"], {}],
      [["--profile", "staging", "token", "--m2m"], {}],
      [["token", "--m2m"], { CARTO_PROFILE: "staging" }],
    ] as [string[], Record<string, string>][]
  ) {
    const run = await s.run(args, { env });
    assert.equal(run.code, 0, `${args.join(" ")}: ${run.stderr}`);
    assert.equal(run.stdout, `${staging}\n`, args.join(" "));
  }
  // The default profile has no M2M login.
  const none = await s.run(["token", "--m2m"]);
  assert.equal(none.code, 4);
  assert.match(none.stderr, /There is no M2M login:/);

  const use = await s.run(["use", "staging"]);
  assert.equal(use.code, 0, use.stderr);
  assert.match(use.stderr, /^✓ Commands now use profile staging \(/);
  assert.equal(
    JSON.parse(await readFile(join(s.cacheDir, "cli.json"), "utf8")).profile,
    "staging",
  );
  const used = await s.run(["token", "--m2m"]);
  assert.equal(used.stdout, `${staging}\n`);
  // --profile wins over `use`; `use default` goes back.
  assert.equal(
    (await s.run(["token", "--m2m", "--profile", "default"])).code,
    4,
  );
  assert.equal((await s.run(["use", "default"])).code, 0);
  assert.equal((await s.run(["token", "--m2m"])).code, 4);
  assert.equal(s.fake.count("token"), 1);
});

test("use: an unknown profile is exit 1 saying how to create it; a bad name is a usage error", async () => {
  await using s = await setup();
  const unknown = await s.run(["use", "prod"]);
  assert.equal(unknown.code, 1);
  assert.equal(
    unknown.stderr,
    'Error: There is no profile "prod" (profiles: default). Log in to it first: ' +
      "carto-auth login --profile prod\n",
  );
  for (const args of [["use", "../etc"], ["token", "--profile", "a/b"]]) {
    const bad = await s.run(args);
    assert.equal(bad.code, 2, args.join(" "));
    assert.match(bad.stderr, /is not a profile name/);
  }
  const env = await s.run(["status"], { env: { CARTO_PROFILE: "no way" } });
  assert.equal(env.code, 2);
  assert.match(env.stderr, /CARTO_PROFILE: "no way" is not a profile name/);
});

test("token --profile: a name at the edge of the rule is read, one past it is refused though a token waits at its path", async () => {
  // cli.ts answers `token` on its own, with its own copy of the rule.
  await using s = await setup();
  const cases: [name: string, valid: boolean][] = [
    ["a".repeat(64), true],
    ["9x.y_z-", true],
    ["a".repeat(65), false],
    ["-x", false],
    [".x", false],
  ];
  for (const [name, valid] of cases) {
    const dir = join(s.cacheDir, "profiles", name);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(
      join(dir, "token_oauth.json"),
      formatTokenFile({
        accessToken: `token-of-${name}`,
        expiration: now() + 3600,
      }),
      { mode: 0o600 },
    );
    const run = await s.run(["token", `--profile=${name}`]);
    if (valid) {
      assert.equal(run.stdout, `token-of-${name}\n`, run.stderr);
    } else {
      assert.equal(run.code, 2, name);
      assert.equal(run.stdout, "");
      assert.match(run.stderr, /is not a profile name/);
    }
  }
});

test("status lists every profile as tenant → organization → user with its expiry, the current one marked", async () => {
  await using s = await setup();
  const jane = fakeJwt({
    sub: "auth0|jane",
    "http://app.carto.com/email": "jane@acme.com",
    exp: now() + 7200,
  });
  await s.writeToken("oauth", {
    accessToken: jane,
    expiration: now() - 7200,
    apiBaseUrl: "https://gcp-us-east1.api.carto.com",
  });
  const workDir = join(s.cacheDir, "profiles", "work");
  await mkdir(workDir, { recursive: true });
  await writeFile(
    join(workDir, "token_oauth.json"),
    JSON.stringify({
      api_base_url: "https://gcp-europe-west1.api.carto.com",
      access_token: jane,
      expiration: now() + 3600,
      expiration_utc: now() + 3600,
      org: "acme",
    }),
  );
  await writeFile(
    join(s.cacheDir, "cli.json"),
    JSON.stringify({ tenants: { work: "acme.app.carto.com" } }),
  );
  assert.equal((await m2mLogin(s, "staging")).code, 0);
  const run = await s.run(["status", "--profile", "work"]);
  assert.equal(run.code, 0, run.stderr);
  const blocks = run.stdout.trimEnd().split("\n\n");
  assert.equal(blocks[0], "Profile work  (from --profile)");
  assert.match(
    blocks[1],
    /^Your login \(OAuth\) {2}← used by commands\n {2}✓ Logged in as jane@acme\.com/,
  );
  assert.match(blocks[1], /Token file: +.*profiles\/work\/token_oauth\.json/);
  assert.match(
    blocks[2],
    /M2M login.*\n.*Not logged in\. Run: carto-auth login --m2m --profile work/,
  );
  const list = blocks[3].split("\n");
  assert.equal(
    list[0],
    "Profiles  (* = used by commands; switch: carto-auth use NAME)",
  );
  assert.match(
    list[1],
    /^ {2}default {2}gcp-us-east1\.api\.carto\.com → jane@acme\.com · expired 2 hours ago$/,
  );
  assert.match(
    list[2],
    /^ {2}staging {2}M2M: 127\.0\.0\.1:\d+ → client fake-client-id · expires in (59 minutes|1 hour)$/,
  );
  assert.match(
    list[3],
    /^\* work {5}acme\.app\.carto\.com → acme → jane@acme\.com · expires in (59 minutes|1 hour)$/,
  );

  const json = JSON.parse(
    (await s.run(["status", "--json"], {
      env: { CARTO_PROFILE: "work" },
    })).stdout,
  );
  assert.equal(json.profile, "work");
  assert.equal(json.profileSource, "env");
  assert.deepEqual(json.profiles.map((p: { name: string }) => p.name), [
    "default",
    "staging",
    "work",
  ]);
  const work = json.profiles[2];
  assert.equal(work.current, true);
  assert.equal(work.tenant, "acme.app.carto.com");
  assert.equal(work.oauth.org, "acme");
  assert.equal(work.oauth.account, "jane@acme.com");
  assert.equal(work.m2m, null);
  assert.equal(json.profiles[1].m2m.clientId, "fake-client-id");
});

test("a paste login into a profile records its tenant for status", async () => {
  await using s = await setup();
  const cli = new CliProcess(["login", "--profile", "work"], s.env());
  try {
    await cli.waitFor("stderr", /here: $/);
    cli.write(`${await s.fake.paste(cli.stderr)}\n`);
    const run = await cli.done;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /^ {2}Profile: +work$/m);
  } finally {
    cli.kill();
  }
  const state = JSON.parse(
    await readFile(join(s.cacheDir, "cli.json"), "utf8"),
  );
  assert.equal(state.tenants.work, s.fake.tenantDomain);
  assert.ok(!(await exists(join(s.cacheDir, "token_oauth.json"))));
  const status = await s.run(["status", "--profile", "work"]);
  assert.match(
    status.stdout,
    new RegExp(
      `^\\* work {5}${
        s.fake.tenantDomain.replaceAll(".", "\\.")
      } → auth0\\|fake-user · expires in`,
      "m",
    ),
  );
});

test("expired login in a profile: the message names the profile and the command to run", async () => {
  await using s = await setup();
  const run = await s.run(["token"], { env: { CARTO_PROFILE: "work" } });
  assert.equal(run.code, 4);
  assert.equal(
    run.stderr,
    "Error: You are not logged in to CARTO (profile work). No login was started " +
      "because stdin is not a terminal. Run: carto-auth login --profile work (or, " +
      "for a machine, carto-auth login --m2m --profile work)\n",
  );
});

test("logout --profile NAME removes that profile's login and its folder; --all removes every profile", async () => {
  await using s = await setup();
  assert.equal((await m2mLogin(s, "staging")).code, 0);
  assert.equal((await m2mLogin(s, "default")).code, 0);
  assert.equal((await s.run(["use", "staging"])).code, 0);
  const one = await s.run(["logout", "--m2m", "--profile", "staging"]);
  assert.equal(one.code, 0, one.stderr);
  assert.match(
    one.stderr,
    /^✓ Logged out: removed the M2M login of profile staging \(.*profiles\/staging\/token_m2m\.json\)$/m,
  );
  assert.ok(!(await exists(join(s.cacheDir, "profiles", "staging"))));
  assert.ok(await exists(join(s.cacheDir, "token_m2m.json")));

  assert.equal((await m2mLogin(s, "staging")).code, 0);
  const all = await s.run(["logout", "--all"]);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stderr, /removed the M2M login \(.*\/token_m2m\.json\)/);
  assert.match(all.stderr, /removed the M2M login of profile staging/);
  assert.ok(!(await exists(join(s.cacheDir, "token_m2m.json"))));
  assert.ok(!(await exists(join(s.cacheDir, "profiles", "staging"))));
  assert.deepEqual(
    JSON.parse(await readFile(join(s.cacheDir, "cli.json"), "utf8")),
    {},
  );
  const both = await s.run(["logout", "--all", "--profile", "staging"]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--all removes every profile's logins/);
});

test("token reads a Python-written file the safe way: the earlier of its two meanings", async () => {
  await using s = await setup();
  await mkdir(s.cacheDir, { recursive: true });
  // Written by Python in New York (UTC-5 in winter, -4 in summer): its
  // `expiration` reads 4-5 hours later than the truth. Stated as 2 hours
  // from now, the token really expired 2-3 hours ago.
  await writeFile(
    join(s.cacheDir, "token_oauth.json"),
    `{"api_base_url": "${s.fake.apiBaseUrl}", "access_token": "python-token", "expiration": ${
      now() + 7200
    }}`,
  );
  const expired = await s.run(["token"], {
    env: { TZ: "America/New_York" },
  });
  assert.equal(expired.code, 4, expired.stdout);
  assert.equal(expired.stdout, "");
  assert.match(expired.stderr, /Your CARTO login has expired/);
  // A fresh 24-hour login written by Python is good in any zone.
  await writeFile(
    join(s.cacheDir, "token_m2m.json"),
    `{"api_base_url": "${s.fake.apiBaseUrl}", "access_token": "python-m2m", "expiration": ${
      now() + 24 * 3600
    }}`,
  );
  for (const TZ of ["America/New_York", "Pacific/Kiritimati", "Etc/GMT+12"]) {
    const fresh = await s.run(["token", "--m2m"], { env: { TZ } });
    assert.equal(fresh.stdout, "python-m2m\n", TZ);
  }
  // The same file read in Tokyo (east of UTC) is still good: used as is.
  const tokyo = await s.run(["token"], { env: { TZ: "Asia/Tokyo" } });
  assert.equal(tokyo.code, 0, tokyo.stderr);
  assert.equal(tokyo.stdout, "python-token\n");
});
