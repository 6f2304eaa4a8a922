/**
 * Wall time of `carto-auth token` on a cache hit, next to the runtime
 * starting an empty script, for Deno and Bun (and Node when it runs
 * TypeScript: ≥ 22.18). Goal (issue 3): within 1.5× of the runtime's own
 * start-up.
 *
 *   ./node_modules/.bin/deno run -A bench/cli_token_bench.ts [runs]
 *
 * For three caches: a file written by this library, one written by the
 * Python package, and a named profile chosen with `carto-auth use`. Each
 * command runs `runs` times (default 30) after 3 warm-ups, interleaved so
 * that machine noise hits all alike. Besides wall time, on Linux it prints
 * the CPU time (user + system) each run took, which a shared machine's
 * waiting for a core does not inflate.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { formatTokenFile } from "../src/stores/file.ts";

const root = decodeURIComponent(new URL("..", import.meta.url).pathname);
const bin = (name: string) => join(root, "node_modules", ".bin", name);
const runs = Number(process.argv[2]) || 30;

// Fresh tokens in private caches: one file written by this library, one by
// the Python package (no expiration_utc), and a named profile chosen with
// `carto-auth use` (cli.json, then profiles/work/token_oauth.json).
const home = mkdtempSync(join(tmpdir(), "carto-auth-bench-"));
const token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJiZW5jaCJ9.sig";
const expiration = Math.floor(Date.now() / 1000) + 3600;
function cacheWith(name: string, files: Record<string, string>): string {
  const dir = join(home, name);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, file), text, { mode: 0o600 });
  }
  return dir;
}
const libraryFile = formatTokenFile({
  accessToken: token,
  expiration,
  apiBaseUrl: "https://gcp-us-east1.api.carto.com",
});
const caches: { kind: string; dir: string }[] = [
  {
    kind: "library file",
    dir: cacheWith("library", { "token_oauth.json": libraryFile }),
  },
  {
    kind: "Python file",
    // Python's json.dump of its three keys, as a fresh 24-hour CARTO login
    // writes it (fresh in any zone).
    dir: cacheWith("python", {
      "token_oauth.json":
        `{"api_base_url": "https://gcp-us-east1.api.carto.com", "access_token": "${token}", "expiration": ${
          expiration + 23 * 3600
        }.25}`,
    }),
  },
  {
    kind: "profile (use)",
    dir: cacheWith("profile", {
      "cli.json": JSON.stringify({ profile: "work" }),
      "profiles/work/token_oauth.json": libraryFile,
    }),
  },
];
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) {
  if (v !== undefined && !k.startsWith("CARTO_") && k !== "CI") env[k] = v;
}
Object.assign(env, { HOME: home });
const envFor = (dir: string) => ({ ...env, CARTO_AUTH_CACHE_DIR: dir });

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

/**
 * CPU time (ms) of the children waited for so far: getrusage(RUSAGE_CHILDREN)
 * through libc, on Linux (its struct starts with two 64-bit timevals);
 * `undefined` elsewhere.
 */
const childCpuMs: () => number | undefined = (() => {
  if (Deno.build.os !== "linux") return () => undefined;
  const libc = Deno.dlopen("libc.so.6", {
    getrusage: { parameters: ["i32", "buffer"], result: "i32" },
  });
  const usage = new BigInt64Array(18); // struct rusage: 144 bytes
  return () => {
    libc.symbols.getrusage(-1, new Uint8Array(usage.buffer));
    const [userS, userUs, sysS, sysUs] = Array.from(usage.slice(0, 4), Number);
    return (userS + sysS) * 1e3 + (userUs + sysUs) / 1e3;
  };
})();

interface Sample {
  wall: number[];
  cpu: number[];
}
const sample = (): Sample => ({ wall: [], cpu: [] });

function run(cmd: string[], dir = caches[0].dir, into = sample()): void {
  const cpuBefore = childCpuMs();
  const start = performance.now();
  const r = spawnSync(cmd[0], cmd.slice(1), { cwd: root, env: envFor(dir) });
  into.wall.push(performance.now() - start);
  const cpuAfter = childCpuMs();
  if (cpuBefore !== undefined && cpuAfter !== undefined) {
    into.cpu.push(cpuAfter - cpuBefore);
  }
  if (r.status !== 0) {
    throw new Error(`${cmd.join(" ")} failed: ${r.stderr}`);
  }
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), min: sorted[0], p10: at(0.1), p90: at(0.9) };
}

// Every cache gives the token.
for (const pair of pairs) {
  for (const cache of caches) {
    const check = spawnSync(pair.token[0], pair.token.slice(1), {
      cwd: root,
      env: envFor(cache.dir),
      encoding: "utf8",
    });
    if (check.stdout !== `${token}\n`) {
      throw new Error(
        `${pair.runtime}: token did not print the cached token of the ${cache.kind}: ${check.stderr}`,
      );
    }
  }
}

console.log(
  `carto-auth token on a cache hit vs an empty script (${runs} runs each, ms; load average ${loadAverage()})\n`,
);
console.log(
  `${"runtime".padEnd(16)}${"cache".padEnd(16)}${"empty script".padStart(22)}${
    "token".padStart(22)
  }${"ratio".padStart(8)}${"CPU ratio".padStart(11)}   goal ≤ 1.5×`,
);
type Stats = ReturnType<typeof stats>;
const fmt = (s: Stats) =>
  `${s.median.toFixed(1)} (${s.p10.toFixed(0)}–${s.p90.toFixed(0)}, ${
    s.min.toFixed(0)
  })`;
const cpuRatio = (token: Sample, empty: Sample) =>
  token.cpu.length
    ? `${(stats(token.cpu).median / stats(empty.cpu).median).toFixed(2)}×`
    : "n/a";
try {
  for (const pair of pairs) {
    for (let i = 0; i < 3; i++) {
      run(pair.empty);
      for (const c of caches) run(pair.token, c.dir);
    }
    // Interleaved, so that machine noise hits every command alike.
    const empty = sample();
    const tokens = caches.map(sample);
    for (let i = 0; i < runs; i++) {
      run(pair.empty, caches[0].dir, empty);
      caches.forEach((c, j) => run(pair.token, c.dir, tokens[j]));
    }
    const base = stats(empty.wall);
    caches.forEach((c, j) => {
      const t = stats(tokens[j].wall);
      const ratio = t.median / base.median;
      console.log(
        `${pair.runtime.padEnd(16)}${c.kind.padEnd(16)}${
          fmt(base).padStart(22)
        }${fmt(t).padStart(22)}${`${ratio.toFixed(2)}×`.padStart(8)}${
          cpuRatio(tokens[j], empty).padStart(11)
        }   ${ratio <= 1.5 ? "ok" : "over"}`,
      );
    });
  }
  console.log(
    `\nwall time: median (10th–90th percentile, min); ratio: of the medians; ` +
      `CPU ratio: of the median CPU times (user + system)\nload average at the end: ${loadAverage()}`,
  );
} finally {
  rmSync(home, { recursive: true, force: true });
}

function loadAverage(): string {
  return loadavg().map((n) => n.toFixed(2)).join(" ");
}
