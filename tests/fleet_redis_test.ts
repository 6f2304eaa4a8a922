/**
 * A fleet of processes (Deno or Bun, as the tests) sharing one token through
 * a real `redis-server`, each over its own connection.
 */
import { after } from "node:test";
import { RedisTokenStore } from "../mod.ts";
import { fleetContract } from "./fleet.ts";
import {
  type RedisServer,
  redisUnavailable,
  startRedis,
} from "./redis_server.ts";

let server: Promise<RedisServer> | undefined;
after(async () => await (await server)?.close());

fleetContract({
  name: "RedisTokenStore fleet",
  unavailable: redisUnavailable,
  async open(lease) {
    const redis = await (server ??= startRedis());
    const prefix = `fleet-${crypto.randomUUID()}:`;
    const client = await redis.connect();
    return {
      config: { kind: "redis", port: redis.port, prefix, lease },
      store: new RedisTokenStore(client.send, { prefix, lease }),
    };
  },
});
