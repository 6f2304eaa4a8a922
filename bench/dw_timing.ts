/** Timing helpers shared by the Data Warehouse benchmarks. */

/**
 * Runs every case `rounds` times after one warm-up round, interleaved so
 * that load from other processes spreads over all of them, and keeps the
 * best time of each. `check` sees each result (to make sure a case did the
 * whole work).
 */
export async function bestTimes<T>(
  cases: Record<string, () => T | Promise<T>>,
  rounds: number,
  check: (result: T) => void = () => {},
): Promise<Record<string, number>> {
  const best: Record<string, number> = {};
  for (let round = 0; round <= rounds; round++) {
    for (const [name, fn] of Object.entries(cases)) {
      const start = performance.now();
      check(await fn());
      const ms = performance.now() - start;
      if (round > 0) best[name] = Math.min(best[name] ?? Infinity, ms);
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
