/**
 * What processes waiting for the renewal lock cost the machine, and how soon
 * they get it once it is free: this process holds `<file>.lock` for
 * `seconds`, `waiters` processes (of this runtime) wait for it, and each says
 * the CPU time its wait used (from its first line: start-up excluded, the
 * first use of the file system included). Goal (issue 11): waiting costs next
 * to nothing, so hundreds of `carto-auth token` runs waiting for one renewal
 * do not starve that renewal on a busy machine; and all of them get the lock
 * soon after it is freed.
 *
 *   ./node_modules/.bin/deno run -A bench/lock_wait_bench.ts [waiters=50] [seconds=10]
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileTokenStore } from "../src/stores/file.ts";

const waiters = Number(process.argv[2]) || 50;
const seconds = Number(process.argv[3]) || 10;
const waiter = join(import.meta.dirname!, "lock_waiter.ts");
const command = "Deno" in globalThis
  ? [process.execPath, "run", "-A", waiter]
  : [process.execPath, waiter];

const dir = await mkdtemp(join(tmpdir(), "carto-auth-lock-bench-"));
let released = 0;
const results = await new FileTokenStore({ dir }).lock("m2m", async () => {
  const runs = Array.from(
    { length: waiters },
    () =>
      new Promise<{ cpuMs: number; at: number }>((resolve, reject) => {
        const child = spawn(command[0], [...command.slice(1), dir], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.on("data", (chunk) => (out += chunk));
        child.on("error", reject);
        child.on("close", () => resolve(JSON.parse(out)));
      }),
  );
  await new Promise((r) => setTimeout(r, seconds * 1000));
  released = Date.now();
  return runs;
}).then((runs) => Promise.all(runs));
await rm(dir, { recursive: true, force: true });

const cpu = results.map((r) => r.cpuMs).sort((a, b) => a - b);
const total = cpu.reduce((a, b) => a + b, 0);
const last = Math.max(...results.map((r) => r.at)) - released;
console.log(
  `${waiters} waiters, lock held ${seconds} s: CPU of the waits ${
    (total / 1000).toFixed(2)
  } s in all (median ${cpu[cpu.length >> 1].toFixed(0)} ms per waiter); ` +
    `all had the lock ${last} ms after it was freed`,
);
