/** Timing helpers shared by the Data Warehouse benchmarks. */
import process from "node:process";

/** The best times of a case, in milliseconds. */
export interface Times {
  /** Elapsed time. */
  wall: number;
  /**
   * CPU time of the process (every thread: the engine's collector too). On
   * a machine shared with other work it moves much less than `wall`, which
   * also counts the time spent waiting for a core.
   */
  cpu: number;
}

/**
 * Runs every case `rounds` times after one warm-up round, interleaved so
 * that load from other processes spreads over all of them, and keeps the
 * best times of each. `check` sees each result (to make sure a case did the
 * whole work).
 */
export async function bestTimes<T>(
  cases: Record<string, () => T | Promise<T>>,
  rounds: number,
  check: (result: T) => void = () => {},
): Promise<Record<string, Times>> {
  const best: Record<string, Times> = {};
  for (let round = 0; round <= rounds; round++) {
    for (const [name, fn] of Object.entries(cases)) {
      const cpu = process.cpuUsage();
      const start = performance.now();
      check(await fn());
      const wall = performance.now() - start;
      const used = process.cpuUsage(cpu);
      if (round === 0) continue;
      const times = best[name] ??= { wall: Infinity, cpu: Infinity };
      times.wall = Math.min(times.wall, wall);
      times.cpu = Math.min(times.cpu, (used.user + used.system) / 1000);
    }
  }
  return best;
}

/** `Deno 2.x`, `Bun 1.x` or `Node 2x`. */
export function runtimeName(): string {
  const g = globalThis as {
    Deno?: { version: { deno: string } };
    Bun?: { version: string };
    process?: { version: string };
  };
  if (g.Deno) return `Deno ${g.Deno.version.deno}`;
  if (g.Bun) return `Bun ${g.Bun.version}`;
  return `Node ${g.process?.version}`;
}
