import { CredentialsError } from "../errors.ts";

/**
 * One lease algorithm for every store that coordinates through a shared
 * engine (Redis, Deno KV, a Durable Object): take the lease with a bounded
 * wait, keep it alive while the work runs, give it back at the end. A
 * holder that dies stops renewing, its lease runs out, and a waiter takes
 * over. The store only supplies three atomic operations on one key.
 */

/**
 * The atomic operations a store offers on the lease of one key. Each is one
 * round trip to the engine; the engine's clock decides expiry where it can.
 */
export interface LeaseOps {
  /** Takes the lease for `owner` for `ttlMs` when nobody holds it or its time is up; `true` when taken. */
  acquire(owner: string, ttlMs: number): Promise<boolean>;
  /** Extends `owner`'s lease to `ttlMs` from now; `false` when it is no longer `owner`'s. */
  renew(owner: string, ttlMs: number): Promise<boolean>;
  /** Ends `owner`'s lease; leaves a lease that is no longer `owner`'s alone. */
  release(owner: string): Promise<void>;
  /**
   * Optional, for engines that can hold a call until the lease changes (a
   * Durable Object): takes the lease like `acquire`, or else answers only
   * when it is released or runs out (`"free"`: try again at once) or after
   * `waitMs` (`false`). A waiter then makes one call per release instead of
   * polling. It never takes the lease for a call it held: the caller may be
   * gone by then.
   */
  acquireOrWait?(
    owner: string,
    ttlMs: number,
    waitMs: number,
  ): Promise<boolean | "free">;
}

/**
 * How a store's lock behaves. The defaults suit token requests: a live
 * holder keeps its lease however long its request takes, a dead one is
 * replaced within 15 seconds.
 *
 * @example Short leases
 * ```ts
 * import { RedisTokenStore } from "@carto/auth";
 *
 * declare const send: (args: string[]) => Promise<unknown>;
 * const store = new RedisTokenStore(send, { lease: { ttlMs: 5_000 } });
 * ```
 */
export interface LeaseOptions {
  /**
   * How long a lease lasts unless its holder renews it (it does every
   * third of this): how soon a holder that died is taken over. Default
   * 15,000 ms.
   */
  ttlMs?: number;
  /**
   * The longest wait for a lease that a live holder keeps renewing; then a
   * `CredentialsError` (code `timeout`). Default 120,000 ms: beyond a token
   * request's own timeouts and retries.
   */
  waitMs?: number;
}

/**
 * The first pause between tries of a held lease, for engines that cannot
 * hold a call; it grows to {@linkcode MAX_POLL_MS}.
 */
const FIRST_POLL_MS = 4;
const MAX_POLL_MS = 20;

/**
 * Runs `fn` holding the lease of `ops`. When the engine cannot be reached,
 * `fn` runs without the lease (a lease that cannot exist is held by no one
 * else either). A lease that stays taken for `waitMs` ends the wait with a
 * `CredentialsError` (code `timeout`) rather than risk spending a rotating
 * refresh token twice. `what` names the lease in that message.
 *
 * @example A lease in a Map (one process; real stores use an engine)
 * ```ts
 * import { type LeaseOps, withLease } from "./lease.ts";
 *
 * const leases = new Map<string, { owner: string; until: number }>();
 * const ops: LeaseOps = {
 *   acquire: (owner, ttlMs) => {
 *     const held = leases.get("k");
 *     if (held && held.until > Date.now()) return Promise.resolve(false);
 *     leases.set("k", { owner, until: Date.now() + ttlMs });
 *     return Promise.resolve(true);
 *   },
 *   renew: (owner, ttlMs) => {
 *     const mine = leases.get("k")?.owner === owner;
 *     if (mine) leases.set("k", { owner, until: Date.now() + ttlMs });
 *     return Promise.resolve(mine);
 *   },
 *   release: (owner) => {
 *     if (leases.get("k")?.owner === owner) leases.delete("k");
 *     return Promise.resolve();
 *   },
 * };
 * const answer = await withLease(ops, () => Promise.resolve(42));
 * ```
 */
export async function withLease<T>(
  ops: LeaseOps,
  fn: () => Promise<T>,
  options: LeaseOptions = {},
  what = "the token renewal",
): Promise<T> {
  const ttlMs = options.ttlMs ?? 15_000;
  const waitMs = options.waitMs ?? 120_000;
  const owner = crypto.randomUUID();
  const held = await acquire(ops, owner, ttlMs, waitMs);
  if (held === "timeout") {
    throw new CredentialsError(
      `Waited ${Math.round(waitMs / 1000)} s for another process renewing ` +
        `${what}: it still holds the lock and keeps it alive. Try again later.`,
      { code: "timeout" },
    );
  }
  if (held === "unavailable") return await fn();
  const heartbeat = keepAlive(ops, owner, ttlMs);
  try {
    return await fn();
  } finally {
    heartbeat.stop();
    // Awaited: a process that exits right after must not leave its lease
    // standing for others to wait out.
    await ops.release(owner).catch(() => {});
  }
}

/** Tries until the lease is taken, the wait is over or the engine fails. */
async function acquire(
  ops: LeaseOps,
  owner: string,
  ttlMs: number,
  waitMs: number,
): Promise<"held" | "timeout" | "unavailable"> {
  const deadline = Date.now() + waitMs;
  let pause = FIRST_POLL_MS;
  for (;;) {
    let answer: boolean | "free";
    try {
      // One held call at most a lease long: a caller that vanished leaves
      // nothing waiting in the engine for longer.
      const hold = Math.max(0, Math.min(deadline - Date.now(), ttlMs));
      answer = ops.acquireOrWait
        ? await ops.acquireOrWait(owner, ttlMs, hold)
        : await ops.acquire(owner, ttlMs);
    } catch {
      // A held call also ends in an error when the engine restarts (a
      // Durable Object's deploy); only an engine that fails again is gone.
      if (!ops.acquireOrWait) return "unavailable";
      try {
        answer = await ops.acquire(owner, ttlMs);
      } catch {
        return "unavailable";
      }
    }
    if (answer === true) return "held";
    const left = deadline - Date.now();
    if (left <= 0) return "timeout";
    if (answer === "free") continue;
    // Jitter keeps many waiters from polling in step.
    const wait = Math.min(left, pause * (0.5 + Math.random()));
    await new Promise((resolve) => setTimeout(resolve, wait));
    pause = Math.min(pause * 2, MAX_POLL_MS);
  }
}

/** Renews the lease every third of its life until stopped or lost. */
function keepAlive(
  ops: LeaseOps,
  owner: string,
  ttlMs: number,
): { stop(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const beat = () => {
    timer = setTimeout(async () => {
      const kept = await ops.renew(owner, ttlMs).catch(() => true);
      if (kept && !stopped) beat();
    }, ttlMs / 3);
  };
  beat();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
