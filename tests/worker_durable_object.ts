/**
 * DurableObjectTokenStore in real workerd (miniflare): the store contract
 * through a TokenStoreDurableObject, and a fleet of worker isolates in one
 * miniflare instance bound to that one object. Run by the `workerd` step of
 * scripts/test.ts; the name keeps it out of the plain Deno and Bun runs.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CartoAuth, type TokenStore } from "../mod.ts";
import {
  type DurableObjectNamespaceLike,
  DurableObjectTokenStore,
} from "../cloudflare.ts";
import { type FakeCarto, startFakeCarto } from "../src/testing/mod.ts";
import { whenTokenRequests } from "./fleet.ts";
import { tokenStoreContract } from "./stores_contract.ts";
import { startWorkerFleet, type WorkerFleet } from "./worker_miniflare.ts";

const running: { dispose(): Promise<void> }[] = [];
after(async () => {
  for (const r of running.splice(0).reverse()) await r.dispose();
});

const now = () => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Isolates bound to one object, disposed at the end. */
async function startIsolates(
  ...args: Parameters<typeof startWorkerFleet>
): Promise<WorkerFleet> {
  const fleet = await startWorkerFleet(...args);
  running.push(fleet.mf);
  return fleet;
}

test("workerd: 4 isolates × 200 concurrent calls over an expired token in the Durable Object make 1 token request and 1 DW token request", async () => {
  await using fake = await startFakeCarto();
  const { run, namespace } = await startIsolates(fake, 4);
  const store = new DurableObjectTokenStore(namespace);
  await store.set("m2m", {
    accessToken: "expired-token",
    expiration: now() - 60,
    apiBaseUrl: fake.apiBaseUrl,
    clientId: fake.credentials.clientId,
  });
  const results = await Promise.all(
    [0, 1, 2, 3].map((i) => run(i, "calls=200&dw=1")),
  );
  const tokens = new Set(results.flatMap((r) => r.tokens));
  assert.equal(tokens.size, 1, "one token for every isolate");
  assert.ok(fake.isValidToken([...tokens][0]));
  assert.equal(fake.count("token"), 1);
  assert.equal((await store.get("m2m"))?.accessToken, [...tokens][0]);
  const dwTokens = new Set(results.flatMap((r) => r.dwTokens));
  assert.equal(dwTokens.size, 1, "one DW token for every isolate");
  assert.equal(fake.count("dwToken"), 1);
});

test("workerd: when the runtime dies with an isolate mid-renewal, a new one's isolates take over within the lease time", async () => {
  await using fake = await startFakeCarto();
  const leaseMs = 3000;
  const persist = await mkdtemp(join(tmpdir(), "carto-auth-do-"));
  const first = await startIsolates(fake, 1, { leaseMs, persist });
  fake.fault("token", "hang");
  const holder = first.run(0, "calls=1").catch(() => {});
  const requested = await whenTokenRequests(fake, 1);
  await first.mf.dispose();
  const killed = Date.now();
  await holder;
  // The object's storage (the lease in it) survives, as in a deploy.
  const second = await startIsolates(fake, 2, { leaseMs, persist });
  // Measured from when the new runtime is up: starting workerd takes seconds
  // on a busy machine, and is no part of the takeover.
  const up = Date.now();
  const taking = Promise.all([0, 1].map((i) => second.run(i, "calls=50")));
  const retaken = await whenTokenRequests(fake, 2);
  const tokens = new Set((await taking).flatMap((r) => r.tokens));
  assert.equal(tokens.size, 1);
  assert.ok(fake.isValidToken([...tokens][0]));
  assert.equal(fake.count("token"), 2, "the dead holder's, then one more");
  assert.ok(
    retaken - requested >= leaseMs * 0.8,
    `the lease was respected: ${retaken - requested} ms`,
  );
  assert.ok(
    retaken - up < leaseMs + 2000,
    `taken over ${retaken - up} ms after the new runtime was up ` +
      `(${retaken - killed} ms after the old one died)`,
  );
});

test("workerd: with refresh-token rotation, long-lived isolates spend each refresh token once, also one that sat out a renewal", async () => {
  // Tokens are fresh for 2 s (60 s of leeway): each round renews.
  await using fake = await startFakeCarto({
    refreshTokens: true,
    rotateRefreshTokens: true,
    expiresIn: 62,
  });
  const { run, namespace } = await startIsolates(fake, 4);
  const store = new DurableObjectTokenStore(namespace);
  await CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    openBrowser: fake.browser,
    redirectPort: 0,
    store,
    log: () => {},
  });
  const spent: string[] = [];
  // Isolates 2 and 3 sit out round 1: in round 2 they still hold round 0's
  // refresh token, spent since; the store has the current one.
  for (const isolates of [[0, 1, 2, 3], [0, 1], [2, 3]]) {
    spent.push((await store.get("oauth"))!.refreshToken!);
    await sleep(2100);
    const results = await Promise.all(
      isolates.map((i) => run(i, "mode=oauth&calls=100")),
    );
    const tokens = new Set(results.flatMap((r) => r.tokens));
    assert.equal(tokens.size, 1, `isolates ${isolates}: one token`);
    assert.ok(fake.isValidToken([...tokens][0]));
  }
  assert.deepEqual(refreshTokensSent(fake), spent);
});

/** The refresh tokens the fake received, in order. */
function refreshTokensSent(fake: FakeCarto): (string | null)[] {
  return fake.requests
    .filter((r) => r.route === "token")
    .map((r) => new URLSearchParams(r.body))
    .filter((form) => form.get("grant_type") === "refresh_token")
    .map((form) => form.get("refresh_token"));
}

// The token store contract (leases included) through the real object,
// called from outside workerd; each case has an object of its own.
// Calls from outside workerd take tens of ms on a busy machine: a longer lease.
const lease = { ttlMs: 2000, waitMs: 5500 };
const objectHost = (async () => {
  const fake = await startFakeCarto();
  running.push({ dispose: () => fake.close() });
  return (await startIsolates(fake, 0)).namespace;
})();
const names = new WeakMap<TokenStore, string>();
const openObject = async (name: string = crypto.randomUUID()) => {
  const store = new DurableObjectTokenStore(await objectHost, { name, lease });
  names.set(store, name);
  return store;
};
tokenStoreContract({
  name: "DurableObjectTokenStore (workerd)",
  open: () => openObject(),
  peer: (store) => openObject(names.get(store)),
  lease: {
    ...lease,
    abandon: abandonLease,
  },
});

/** Leaves in the object of `store` a lease on `key` held by an owner that died. */
async function abandonLease(store: TokenStore, key: string): Promise<void> {
  const namespace = await objectHost;
  const stub = namespace.get(
    namespace.idFromName(names.get(store)!) as never,
  );
  const res = await stub.fetch("https://token-store.carto-auth/", {
    method: "POST",
    body: JSON.stringify({
      op: "acquire",
      key,
      owner: "a-holder-that-died",
      ttlMs: lease.ttlMs,
    }),
  });
  assert.deepEqual(await res.json(), { result: true });
}

/**
 * The object `name` of the test object's namespace, through `fault`, which
 * sees every call (its JSON) and the stub's answer to come.
 */
async function throughFault(
  name: string,
  fault: (
    call: { op: string; waitMs?: number },
    answer: Promise<Response>,
  ) => Promise<Response>,
): Promise<DurableObjectTokenStore> {
  const namespace = await objectHost;
  const seen: DurableObjectNamespaceLike = {
    idFromName: (n) => namespace.idFromName(n),
    get: (id) => ({
      fetch: (input, init) =>
        fault(
          JSON.parse(String(init?.body)),
          namespace.get(id).fetch(input, init),
        ),
    }),
  };
  return new DurableObjectTokenStore(seen, { name, lease });
}

/** A store over object `name` that counts its acquire calls. */
async function countingAcquires(name: string) {
  const counted = { acquires: 0 };
  const waiter = await throughFault(name, (call, answer) => {
    if (call.op === "acquire") counted.acquires++;
    return answer;
  });
  return { waiter, counted };
}

/** Holds the lease of "m2m" in object `name` until `work` settles; resolves once taken. */
async function holdLease(
  name: string,
  work: () => Promise<unknown>,
): Promise<{ held: Promise<unknown> }> {
  const holder = await openObject(name);
  let taken!: () => void;
  const inside = new Promise<void>((r) => taken = r);
  const held = holder.lock!("m2m", () => {
    taken();
    return work();
  });
  await inside;
  return { held };
}

test("DurableObjectTokenStore: a waiter is answered when the holder releases, in one held call, not by polling", async () => {
  const name = crypto.randomUUID();
  const { waiter, counted } = await countingAcquires(name);
  let releasing = 0;
  const { held } = await holdLease(name, async () => {
    await sleep(1000);
    releasing = Date.now();
  });
  const entered = await waiter.lock("m2m", () => Promise.resolve(Date.now()));
  await held;
  assert.ok(releasing > 0 && entered >= releasing, "after the holder");
  // Polling every 4–20 ms made some 50 calls over the holder's second.
  assert.ok(counted.acquires <= 3, `${counted.acquires} acquire calls`);
  assert.ok(entered - releasing < 1000, `${entered - releasing} ms late`);
});

test("DurableObjectTokenStore: a waiter is answered when a dead holder's lease runs out, and takes over, without polling", async () => {
  const name = crypto.randomUUID();
  const { waiter, counted } = await countingAcquires(name);
  await openObject(name).then((store) => abandonLease(store, "m2m"));
  const started = Date.now();
  await waiter.lock("m2m", () => Promise.resolve());
  const waited = Date.now() - started;
  assert.ok(waited >= lease.ttlMs * 0.8, `waited ${waited} ms`);
  assert.ok(waited < lease.ttlMs + 2000, `waited ${waited} ms`);
  assert.ok(counted.acquires <= 3, `${counted.acquires} acquire calls`);
});

test("DurableObjectTokenStore: a held call that ends in an error (the object restarted) does not let the waiter in beside the holder", async () => {
  const name = crypto.randomUUID();
  let resets = 0;
  // A restart of the object ends the calls it holds with an error.
  const waiter = await throughFault(name, (call, answer) => {
    if (call.op !== "acquire" || !call.waitMs) return answer;
    return new Promise((resolve, reject) => {
      const reset = setTimeout(() => {
        resets++;
        reject(new Error("Durable Object reset because its code was updated."));
        answer.then((res) => res.body?.cancel(), () => {});
      }, 200);
      answer.then(resolve, reject).finally(() => clearTimeout(reset));
    });
  });
  let holding = true;
  const { held } = await holdLease(name, async () => {
    await sleep(1000);
    holding = false;
  });
  const enteredWhileHeld = await waiter.lock(
    "m2m",
    () => Promise.resolve(holding),
  );
  await held;
  assert.ok(resets >= 1, "a held call was ended");
  assert.equal(enteredWhileHeld, false);
});

test("DurableObjectTokenStore: a namespace that is not one, and an object that fails, are clear errors", async () => {
  assert.throws(
    () =>
      new DurableObjectTokenStore(
        undefined as unknown as DurableObjectNamespaceLike,
      ),
    /needs a Durable Object namespace binding \(env.TOKEN_STORE\)/,
  );
  const broken: DurableObjectNamespaceLike = {
    idFromName: (name) => name,
    get: () => ({
      fetch: () =>
        Promise.resolve(
          new Response("Worker threw exception", { status: 500 }),
        ),
    }),
  };
  const store = new DurableObjectTokenStore(broken);
  await assert.rejects(
    store.get("m2m"),
    /Durable Object answered HTTP 500: Worker threw exception\. Check that TOKEN_STORE is bound/,
  );
  assert.equal(await store.lock("m2m", () => Promise.resolve(1)), 1);
});
