/**
 * One process waiting for the renewal lock (`lock_wait_bench.ts`):
 * `lock_waiter.ts <dir>` takes the lock of `<dir>/token_m2m.json` once and
 * prints the CPU time the wait cost, in ms, and when it got the lock.
 */
import { FileTokenStore } from "../src/stores/file.ts";

const [dir] = process.argv.slice(2);
const before = process.cpuUsage();
await new FileTokenStore({ dir }).lock("m2m", () => Promise.resolve());
const used = process.cpuUsage(before);
console.log(
  JSON.stringify({ cpuMs: (used.user + used.system) / 1000, at: Date.now() }),
);
