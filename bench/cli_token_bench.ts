/**
 * Wall time of `carto-auth token` on a cache hit, next to the runtime
 * starting an empty script, for Deno and Bun (and Node when it runs
 * TypeScript: ≥ 22.18). Goal (issue 3): within 1.5× of the runtime's own
 * start-up.
 *
 *   ./node_modules/.bin/deno run -A bench/cli_token_bench.ts [runs]
 *
 * Uses hyperfine when it is installed, else measures here: each command runs
 * `runs` times (default 30) after 3 warm-ups, the pairs interleaved so that
 * machine noise hits both alike.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatTokenFile } from "../src/stores/file.ts";

const root = decodeURIComponent(new URL("..", import.meta.url).pathname);
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const runs = Number(process.argv[2]) || 30;

// A fresh token in a private cache.
const home = mkdtempSync(join(tmpdir(), "carto-auth-bench-"));
const cache = join(home, ".carto-auth");
mkdirSync(cache, { mode: 0o700 });
const token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.sig";
writeFileSync(
  join(cache, "token_oauth.json"),
  formatTokenFile({
    accessToken: token,
    expiration: Math.floor(Date.now() / 1000) + 3600,
    apiBaseUrl: "https://gcp-us-east1.api.carto.com",
  }),
  { mode: 0o600 },
);
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) {
  if (v !== undefined && !k.startsWith("CARTO_") && k !== "CI") env[k] = v;
}
Object.assign(env, { HOME: home, CARTO_AUTH_CACHE_DIR: cache });

interface Pair {
  runtime: string;
  empty: string[];
  token: string[];
}

const pairs: Pair[] = [
  {
    runtime: "deno",
    empty: [bin("deno"), "run", "-A", "bench/cli_empty.ts"],
    token: [bin("deno"), "run", "-A", "cli.ts", "token"],
  },
  {
    runtime: "bun",
    empty: [bin("bun"), "bench/cli_empty.ts"],
    token: [bin("bun"), "cli.ts", "token"],
  },
];
const nodeVersion = (() => {
  try {
    return execFileSync("node", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
})();
const [major, minor] = (nodeVersion ?? "v0.0").slice(1).split(".").map(Number);
if (major > 22 || (major === 22 && minor >= 18)) {
  pairs.push({
    runtime: `node ${nodeVersion}`,
    empty: ["node", "bench/cli_empty.ts"],
    token: ["node", "cli.ts", "token"],
  });
} else {
  console.log(
    `node: skipped (${
      nodeVersion ?? "not installed"
    }; running .ts files needs ≥ 22.18)`,
  );
}

function run(cmd: string[]): number {
  const start = performance.now();
  const r = spawnSync(cmd[0], cmd.slice(1), { cwd: root, env });
  const ms = performance.now() - start;
  if (r.status !== 0) {
    throw new Error(`${cmd.join(" ")} failed: ${r.stderr}`);
  }
  return ms;
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p10: at(0.1), p90: at(0.9) };
}

function hyperfine(pair: Pair): { empty: number; token: number } | undefined {
  try {
    execFileSync("hyperfine", ["--version"], { stdio: "ignore" });
  } catch {
    return undefined;
  }
  const out = join(home, `${pair.runtime}.json`);
  execFileSync("hyperfine", [
    "--warmup",
    "3",
    "--runs",
    String(runs),
    "--export-json",
    out,
    "-N",
    pair.empty.join(" "),
    pair.token.join(" "),
  ], { cwd: root, env, stdio: "inherit" });
  const { results } = JSON.parse(readFileSync(out, "utf8"));
  return { empty: results[0].median * 1000, token: results[1].median * 1000 };
}

const check = spawnSync(pairs[0].token[0], pairs[0].token.slice(1), {
  cwd: root,
  env,
  encoding: "utf8",
});
if (check.stdout !== `${token}\n`) {
  throw new Error(`token did not print the cached token: ${check.stderr}`);
}

console.log(
  `carto-auth token on a cache hit vs an empty script (${runs} runs each, wall time, ms)\n`,
);
console.log(
  `${"runtime".padEnd(14)}${"empty script".padStart(24)}${
    "token (cache hit)".padStart(24)
  }${"ratio".padStart(8)}   goal ≤ 1.5×`,
);
const fmt = (s: { median: number; p10: number; p90: number }) =>
  `${s.median.toFixed(1)} (${s.p10.toFixed(0)}–${s.p90.toFixed(0)})`;
try {
  for (const pair of pairs) {
    const viaHyperfine = hyperfine(pair);
    let empty, tokenStats;
    if (viaHyperfine) {
      empty = { median: viaHyperfine.empty, p10: NaN, p90: NaN };
      tokenStats = { median: viaHyperfine.token, p10: NaN, p90: NaN };
    } else {
      for (let i = 0; i < 3; i++) run(pair.empty), run(pair.token);
      const e: number[] = [], t: number[] = [];
      for (let i = 0; i < runs; i++) {
        e.push(run(pair.empty));
        t.push(run(pair.token));
      }
      empty = stats(e);
      tokenStats = stats(t);
    }
    const ratio = tokenStats.median / empty.median;
    console.log(
      `${pair.runtime.padEnd(14)}${fmt(empty).padStart(24)}${
        fmt(tokenStats).padStart(24)
      }${`${ratio.toFixed(2)}×`.padStart(8)}   ${ratio <= 1.5 ? "ok" : "over"}`,
    );
  }
  console.log("\nmedian (10th–90th percentile)");
} finally {
  rmSync(home, { recursive: true, force: true });
}
