/**
 * RedisTokenStore on a real `redis-server` started by the tests: the store
 * contract (its lease included) through a raw RESP socket, through
 * node-redis (`@redis/client`) and, in Bun, through Bun's built-in client;
 * CartoAuth instances sharing a token; and what the store leaves in Redis.
 * The multi-process cases are in `fleet_redis_test.ts`.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "@redis/client";
import { type RedisSend, RedisTokenStore, type TokenStore } from "../mod.ts";
import { isolatesContract } from "./isolates_contract.ts";
import {
  fullToken,
  NOT_TOKENS,
  type StoreCase,
  tokenStoreContract,
} from "./stores_contract.ts";
import {
  type RedisServer,
  redisUnavailable as skip,
  startRedis,
} from "./redis_server.ts";

let server: Promise<RedisServer> | undefined;
/** The server of this file, started on first use. */
function redis(): Promise<RedisServer> {
  return server ??= startRedis();
}
const closing: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const close of closing.splice(0)) await close();
  await (await server)?.close();
});

const lease = { ttlMs: 800, waitMs: 2500 };
const now = () => Math.floor(Date.now() / 1000);

/** A raw RESP connection's `send`. */
async function rawSend(): Promise<RedisSend> {
  return (await (await redis()).connect()).send;
}

/** The contract over stores whose connections come from `connect`, each store under a prefix of its own. */
function redisCase(
  name: string,
  connect: () => Promise<RedisSend>,
  unavailable = skip,
): StoreCase {
  const prefixes = new WeakMap<TokenStore, string>();
  const open = async (prefix = `test-${crypto.randomUUID()}:`) => {
    const store = new RedisTokenStore(await connect(), { prefix, lease });
    prefixes.set(store, prefix);
    return store;
  };
  return {
    name,
    unavailable,
    open: () => open(),
    peer: (store) => open(prefixes.get(store)),
    lease: {
      ...lease,
      async abandon(store, key) {
        const lockKey = `${(store as RedisTokenStore).keyFor(key)}:lock`;
        await (await rawSend())([
          "SET",
          lockKey,
          "a-holder-that-died",
          "PX",
          String(lease.ttlMs),
        ]);
      },
    },
  };
}

tokenStoreContract(redisCase("RedisTokenStore (redis-server, RESP)", rawSend));

tokenStoreContract(
  redisCase("RedisTokenStore (node-redis adapter)", async () => {
    const client = await createClient({
      url: `redis://127.0.0.1:${(await redis()).port}`,
    }).connect();
    closing.push(() => client.close());
    return (args) => client.sendCommand(args);
  }),
);

interface BunRedis {
  send(command: string, args: string[]): Promise<unknown>;
  close(): void;
}
const bun = (globalThis as {
  Bun?: { RedisClient?: new (url: string) => BunRedis };
}).Bun;
tokenStoreContract(
  redisCase(
    "RedisTokenStore (Bun's built-in client)",
    async () => {
      const client = new bun!.RedisClient!(
        `redis://127.0.0.1:${(await redis()).port}`,
      );
      closing.push(() => Promise.resolve(client.close()));
      return (args) => client.send(args[0], args.slice(1));
    },
    skip ??
      (bun?.RedisClient ? undefined : "Bun's Redis client exists in Bun only"),
  ),
);

isolatesContract({
  name: "RedisTokenStore",
  unavailable: skip,
  open() {
    const prefix = `test-${crypto.randomUUID()}:`;
    // Each isolate has its own connection.
    return Promise.resolve(async () =>
      new RedisTokenStore(await rawSend(), { prefix })
    );
  },
});

test(
  "RedisTokenStore keeps the token as JSON under <prefix><key>, expiring with it (at least 60 s)",
  {
    skip,
  },
  async () => {
    const send = await rawSend();
    const store = new RedisTokenStore(send);
    const other = new RedisTokenStore(send, { prefix: `app-b-${now()}:` });
    assert.equal(store.keyFor("m2m"), "carto-auth:m2m");
    const token = fullToken({ expiration: now() + 3600 });
    await store.set("m2m", token);
    assert.deepEqual(
      JSON.parse(await send(["GET", "carto-auth:m2m"]) as string),
      token,
    );
    const pttl = Number(await send(["PTTL", "carto-auth:m2m"]));
    assert.ok(pttl > 3_590_000 && pttl <= 3_600_000, `PTTL ${pttl}`);
    await store.set("soon", fullToken({ expiration: now() + 5 }));
    const soon = Number(await send(["PTTL", "carto-auth:soon"]));
    assert.ok(soon > 59_000 && soon <= 60_000, `PTTL ${soon}`);
    await store.set("never", fullToken({ expiration: Infinity }));
    assert.equal(await send(["PTTL", "carto-auth:never"]), -1);
    await other.set("m2m", fullToken({ accessToken: "b" }));
    assert.equal((await store.get("m2m"))?.accessToken, token.accessToken);
    await store.delete("m2m");
    assert.equal(await send(["EXISTS", "carto-auth:m2m"]), 0);
    assert.equal((await other.get("m2m"))?.accessToken, "b");
    await send(["DEL", "carto-auth:soon", "carto-auth:never"]);
  },
);

test(
  "a Redis value that is not a token reads as undefined; replies in bytes are read",
  {
    skip,
  },
  async () => {
    const send = await rawSend();
    const prefix = `bytes-${crypto.randomUUID()}:`;
    const store = new RedisTokenStore(send, { prefix });
    for (const value of [...NOT_TOKENS.map((v) => JSON.stringify(v)), "{"]) {
      await send(["SET", `${prefix}m2m`, value]);
      assert.equal(await store.get("m2m"), undefined, value);
    }
    const token = fullToken();
    await store.set("m2m", token);
    const inBytes = new RedisTokenStore(async (args) => {
      const reply = await send(args);
      return typeof reply === "string"
        ? new TextEncoder().encode(reply)
        : reply;
    }, { prefix });
    assert.deepEqual(await inBytes.get("m2m"), token);
  },
);

test(
  "the lease lives at <key>:lock with the holder's id while it works, and is gone after",
  {
    skip,
  },
  async () => {
    const send = await rawSend();
    const prefix = `lease-${crypto.randomUUID()}:`;
    const store = new RedisTokenStore(send, { prefix, lease });
    const seen = await store.lock("m2m", async () => ({
      owner: await send(["GET", `${prefix}m2m:lock`]),
      pttl: Number(await send(["PTTL", `${prefix}m2m:lock`])),
    }));
    assert.match(String(seen.owner), /^[0-9a-f-]{36}$/);
    assert.ok(seen.pttl > 0 && seen.pttl <= lease.ttlMs, `PTTL ${seen.pttl}`);
    assert.equal(await send(["EXISTS", `${prefix}m2m:lock`]), 0);
  },
);

test(
  "a holder whose lease was taken over neither extends nor deletes the new holder's lease",
  {
    skip,
  },
  async () => {
    const send = await rawSend();
    const prefix = `takeover-${crypto.randomUUID()}:`;
    const lockKey = `${prefix}m2m:lock`;
    const store = new RedisTokenStore(send, { prefix, lease });
    await store.lock("m2m", async () => {
      // As if this holder had stalled past its lease and another took it.
      await send(["SET", lockKey, "the-next-holder", "PX", "100000"]);
      await new Promise((r) => setTimeout(r, lease.ttlMs));
    });
    assert.equal(await send(["GET", lockKey]), "the-next-holder");
    const pttl = Number(await send(["PTTL", lockKey]));
    assert.ok(pttl > lease.ttlMs * 2, `not renewed to the old lease: ${pttl}`);
  },
);

test("when Redis cannot be reached, get passes the error on and lock runs the work anyway", async () => {
  const down: RedisSend = () =>
    Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6379"));
  const store = new RedisTokenStore(down);
  await assert.rejects(store.get("m2m"), /ECONNREFUSED/);
  assert.equal(await store.lock("m2m", () => Promise.resolve("done")), "done");
  assert.throws(
    () => new RedisTokenStore(undefined as unknown as RedisSend),
    /needs a function that sends one Redis command/,
  );
});
