/**
 * A fleet of processes (`fleet_child.ts`), each with its own CartoAuth over
 * one shared store, started together and told to go at the same moment.
 * Used by the `fleet_*_test.ts` files and `bench/fleet.ts`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import process from "node:process";
import { CartoAuth, type LeaseOptions, type TokenStore } from "../mod.ts";
import { type FakeCarto, startFakeCarto } from "../src/testing/mod.ts";
import type { FleetChildConfig, FleetChildResult } from "./fleet_child.ts";

export type { FleetChildConfig, FleetChildResult };

const CHILD = decodeURIComponent(
  new URL("./fleet_child.ts", import.meta.url).pathname,
);
const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== "undefined";

/** The command that runs a member in this runtime (Deno KV members need Deno). */
function command(config: FleetChildConfig): string[] {
  return isDeno || config.store.kind === "deno-kv"
    ? [denoPath(), "run", "-A", CHILD]
    : [process.execPath, CHILD];
}

function denoPath(): string {
  if (isDeno) return process.execPath;
  return decodeURIComponent(
    new URL("../node_modules/.bin/deno", import.meta.url).pathname,
  );
}

/** Members started and waiting for {@linkcode Fleet.go}. */
export interface Fleet {
  readonly members: ChildProcess[];
  /** Tells every member to go; resolves with each one's result. */
  go(): Promise<FleetChildResult[]>;
  /** Ends every member still running. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** A member started; `ready` once it waits for the go, `result` when it printed it. */
export interface Member {
  process: ChildProcess;
  ready: Promise<void>;
  result: Promise<FleetChildResult>;
}

/** Starts one member. */
export function startMember(config: FleetChildConfig): Member {
  const [cmd, ...args] = command(config);
  const child = spawn(cmd, [...args, JSON.stringify(config)], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => stderr += chunk);
  const lines = createInterface({ input: child.stdout! });
  const exited = new Promise<string>((resolve) =>
    child.once(
      "exit",
      (code, signal) =>
        resolve(`member exited (${signal ?? code}): ${stderr.slice(-2000)}`),
    )
  );
  const line = (n: number) =>
    new Promise<string>((resolve, reject) => {
      let seen = 0;
      lines.on("line", (text) => {
        if (seen++ === n) resolve(text);
      });
      exited.then((why) => reject(new Error(why)));
    });
  const ready = line(0).then((text) => {
    if (text !== "ready") throw new Error(`member said ${text}: ${stderr}`);
  });
  const result = line(1).then((text) => JSON.parse(text) as FleetChildResult);
  // Whoever does not wait for these must not see an unhandled rejection.
  ready.catch(() => {});
  result.catch(() => {});
  return { process: child, ready, result };
}

/** Starts `size` members with `config`, all waiting for the go. */
export async function startFleet(
  config: FleetChildConfig,
  size: number,
): Promise<Fleet> {
  const members = Array.from({ length: size }, () => startMember(config));
  const dispose = async () => {
    for (const m of members) {
      if (m.process.exitCode === null && m.process.signalCode === null) {
        m.process.kill("SIGKILL");
      }
    }
    await Promise.all(members.map((m) => m.result.catch(() => {})));
  };
  try {
    await Promise.all(members.map((m) => m.ready));
  } catch (e) {
    await dispose();
    throw e;
  }
  return {
    members: members.map((m) => m.process),
    go() {
      for (const m of members) m.process.stdin!.write("go\n");
      return Promise.all(members.map((m) => m.result));
    },
    [Symbol.asyncDispose]: dispose,
  };
}

/** A shared store for the fleet cases: its members' config and the test's own view of it. */
export interface FleetStoreCase {
  name: string;
  /** Why this engine is not here (cases skipped). */
  unavailable?: string;
  /** Members run in this runtime; the Deno KV ones in Deno even under Bun. */
  open(lease: LeaseOptions): Promise<{
    config: FleetChildConfig["store"];
    store: TokenStore;
  }>;
}

const LEASE = { ttlMs: 2000 };
const now = () => Math.floor(Date.now() / 1000);

/**
 * Registers the fleet cases over `c`: many processes × many concurrent
 * calls make one token request; a holder killed mid-renewal is taken over
 * within the lease; a rotating refresh token is spent once.
 */
export function fleetContract(c: FleetStoreCase): void {
  const base = (fake: FakeCarto, store: FleetChildConfig["store"]) => ({
    store,
    mode: "m2m" as const,
    endpoints: fake.endpoints,
    apiBaseUrl: fake.apiBaseUrl,
    clientId: fake.credentials.clientId,
    clientSecret: fake.credentials.clientSecret,
    calls: 200,
    dw: true,
  });

  test(
    `${c.name}: 4 processes × 200 concurrent calls over an expired token make 1 token request and 1 DW token request`,
    {
      skip: c.unavailable,
    },
    async () => {
      await using fake = await startFakeCarto();
      const { config, store } = await c.open(LEASE);
      await store.set("m2m", {
        accessToken: "expired-token",
        expiration: now() - 60,
        apiBaseUrl: fake.apiBaseUrl,
        clientId: fake.credentials.clientId,
      });
      await using fleet = await startFleet(base(fake, config), 4);
      const results = await fleet.go();
      const tokens = new Set(results.flatMap((r) => r.tokens));
      assert.equal(tokens.size, 1, "one token for the whole fleet");
      const [token] = tokens;
      assert.ok(fake.isValidToken(token));
      assert.equal(fake.count("token"), 1);
      assert.equal((await store.get("m2m"))?.accessToken, token);
      const dwTokens = new Set(results.flatMap((r) => r.dwTokens));
      assert.equal(dwTokens.size, 1, "one DW token for the whole fleet");
      assert.equal(fake.count("dwToken"), 1);
      const [dwToken] = dwTokens;
      assert.equal((await store.get("m2m_dw"))?.accessToken, dwToken);
    },
  );

  test(
    `${c.name}: a holder killed mid-renewal is taken over within the lease time`,
    {
      skip: c.unavailable,
    },
    async () => {
      await using fake = await startFakeCarto();
      const { config } = await c.open(LEASE);
      fake.fault("token", "hang");
      const member = { ...base(fake, config), dw: false };
      const holder = startMember({ ...member, calls: 1 });
      const taker = startMember({ ...member, calls: 20 });
      try {
        await Promise.all([holder.ready, taker.ready]);
        holder.process.stdin!.write("go\n");
        const requested = await whenTokenRequests(fake, 1);
        holder.process.kill("SIGKILL");
        const killed = Date.now();
        taker.process.stdin!.write("go\n");
        const retaken = await whenTokenRequests(fake, 2);
        const { tokens } = await taker.result;
        assert.equal(tokens.length, 1);
        assert.ok(fake.isValidToken(tokens[0]));
        assert.equal(fake.count("token"), 2, "the dead holder's, the taker's");
        // The holder took its lease just before its request; the taker waited it out.
        const respected = retaken - requested;
        assert.ok(respected >= LEASE.ttlMs * 0.8, `after ${respected} ms`);
        const after = retaken - killed;
        assert.ok(after < LEASE.ttlMs + 3000, `${after} ms after the kill`);
      } finally {
        for (const m of [holder, taker]) m.process.kill("SIGKILL");
      }
    },
  );

  test(
    `${c.name}: with refresh-token rotation, 4 processes spend each refresh token once`,
    {
      skip: c.unavailable,
    },
    async () => {
      await using fake = await startFakeCarto({
        refreshTokens: true,
        rotateRefreshTokens: true,
      });
      const { config, store } = await c.open(LEASE);
      await CartoAuth.fromOAuth({
        endpoints: fake.endpoints,
        openBrowser: fake.browser,
        redirectPort: 0,
        store,
        log: () => {},
      });
      const spent: string[] = [];
      for (let round = 0; round < 2; round++) {
        const held = (await store.get("oauth"))!;
        assert.ok(held.refreshToken, "a refresh token in the store");
        spent.push(held.refreshToken);
        await store.set("oauth", { ...held, expiration: now() - 60 });
        await using fleet = await startFleet({
          ...base(fake, config),
          mode: "oauth",
          clientId: undefined,
          clientSecret: undefined,
          calls: 100,
          dw: false,
        }, 4);
        const tokens = new Set((await fleet.go()).flatMap((r) => r.tokens));
        assert.equal(tokens.size, 1, `round ${round}: one token`);
        assert.ok(fake.isValidToken([...tokens][0]));
      }
      const presented = fake.requests
        .filter((r) => r.route === "token")
        .map((r) => new URLSearchParams(r.body))
        .filter((form) => form.get("grant_type") === "refresh_token")
        .map((form) => form.get("refresh_token"));
      assert.deepEqual(
        presented,
        spent,
        "each refresh token sent once, in turn",
      );
      assert.notEqual((await store.get("oauth"))?.refreshToken, spent[1]);
    },
  );
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** When the fake has seen `n` token requests (Unix ms). */
export async function whenTokenRequests(
  fake: FakeCarto,
  n: number,
): Promise<number> {
  while (fake.count("token") < n) await sleep(5);
  return Date.now();
}
