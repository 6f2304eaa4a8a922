/**
 * The example worker in workerd (miniflare) against the fake CARTO:
 *
 * 1. 1,000 concurrent requests with an expired token in KV: how many token
 *    requests reach the fake (goal: 1 per isolate), for one isolate and for
 *    four isolates (workerd instances) sharing the KV persistence.
 * 2. The warm path: latency of `/sql/:connection` through CartoAuth against
 *    the same route doing plain `fetch` with a fixed token (no auth),
 *    interleaved; goal: < 1 ms added.
 *
 *   deno run -A bench/worker_concurrency.ts [requests=1000] [samples=1500]
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as esbuild from "esbuild";
import type { Miniflare } from "miniflare";
import { CloudflareKVTokenStore } from "../mod.ts";
import { startFakeCarto } from "../src/testing/mod.ts";
import { buildWorker } from "../examples/cloudflare-worker/build.ts";
import { startWorker, tokensKV } from "../tests/worker_miniflare.ts";

const requests = Number(Deno.args[0] ?? 1000);
const samples = Number(Deno.args[1] ?? 1500);
const path = "/sql/carto_dw";
/** The route's request: the query in a JSON POST body. */
const request = () => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ q: "SELECT 1 AS n" }),
});
const now = () => Math.floor(Date.now() / 1000);

await using fake = await startFakeCarto();
const minified = { minify: true };

async function expireTokenIn(mf: Miniflare): Promise<void> {
  await new CloudflareKVTokenStore(await tokensKV(mf)).set("m2m", {
    accessToken: "expired-token",
    expiration: now() - 3600,
    apiBaseUrl: fake.apiBaseUrl,
    clientId: fake.credentials.clientId,
  });
}

async function burst(instances: Miniflare[], total: number) {
  const before = fake.count("token");
  const t0 = performance.now();
  const statuses = await Promise.all(
    Array.from({ length: total }, async (_, i) => {
      const res = await instances[i % instances.length].dispatchFetch(
        `http://worker.test${path}`,
        request(),
      );
      await res.arrayBuffer();
      return res.status;
    }),
  );
  const ms = performance.now() - t0;
  const ok = statuses.filter((s) => s === 200).length;
  return { tokenRequests: fake.count("token") - before, ok, ms };
}

console.log(`# ${requests} concurrent requests, expired token in KV`);
for (const isolates of [1, 4]) {
  const kvPersist = await mkdtemp(join(tmpdir(), "carto-auth-bench-kv-"));
  const instances: Miniflare[] = [];
  for (let i = 0; i < isolates; i++) {
    instances.push(await startWorker(fake, { kvPersist, build: minified }));
  }
  await expireTokenIn(instances[0]);
  const r = await burst(instances, requests);
  console.log(
    `${isolates} isolate(s): ${r.tokenRequests} token request(s) reached the fake ` +
      `(goal ≤ ${isolates}); ${r.ok}/${requests} answered 200 in ${
        r.ms.toFixed(0)
      } ms`,
  );
  for (const mf of instances) await mf.dispose();
}
console.log(
  "(With several instances, miniflare's local KV is one SQLite file written by\n" +
    ' separate workerd processes: a "KV PUT failed: 500" above is that file being\n' +
    " busy, not Cloudflare KV; the isolate keeps its token in memory and answers.)",
);

console.log(`\n# warm path: ${samples} sequential requests each, interleaved`);
const withAuth = await startWorker(fake, { build: minified });
await withAuth.dispatchFetch(`http://worker.test${path}`, request()).then((r) =>
  r.text()
);
const token =
  JSON.parse((await (await tokensKV(withAuth)).get("carto-auth:m2m"))!)
    .accessToken;
const noAuthBuild = await buildWorker({
  entry: new URL("worker_noauth.ts", import.meta.url).pathname,
  minify: true,
});
const noAuth = await startWorker(fake, {
  script: noAuthBuild.files[0].text,
  bindings: { TOKEN: token },
});

async function timeOne(mf: Miniflare): Promise<number> {
  const t0 = performance.now();
  const res = await mf.dispatchFetch(`http://worker.test${path}`, request());
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`status ${res.status}`);
  return performance.now() - t0;
}

const times = { auth: [] as number[], noAuth: [] as number[] };
for (let i = 0; i < 200; i++) await timeOne(i % 2 ? withAuth : noAuth); // warm-up
const tokensBefore = fake.count("token");
for (let i = 0; i < samples; i++) {
  // Alternate which goes first, so neither always follows the other.
  if (i % 2 === 0) {
    times.auth.push(await timeOne(withAuth));
    times.noAuth.push(await timeOne(noAuth));
  } else {
    times.noAuth.push(await timeOne(noAuth));
    times.auth.push(await timeOne(withAuth));
  }
}
const tokenRequests = fake.count("token") - tokensBefore;

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const trimmed = s.slice(
    Math.floor(s.length * 0.05),
    Math.ceil(s.length * 0.95),
  );
  const mean = trimmed.reduce((x, y) => x + y, 0) / trimmed.length;
  return { p50: at(0.5), p90: at(0.9), mean };
}
const a = stats(times.auth);
const b = stats(times.noAuth);
const row = (name: string, s: ReturnType<typeof stats>) =>
  `${name.padEnd(22)} p50 ${s.p50.toFixed(3)} ms   p90 ${
    s.p90.toFixed(3)
  } ms   trimmed mean ${s.mean.toFixed(3)} ms`;
console.log(row("with CartoAuth", a));
console.log(row("no auth (plain fetch)", b));
console.log(
  `added by the warm path: p50 ${(a.p50 - b.p50).toFixed(3)} ms, trimmed mean ${
    (a.mean - b.mean).toFixed(3)
  } ms (goal < 1 ms); token requests during the run: ${tokenRequests}`,
);
await withAuth.dispose();
await noAuth.dispose();
await esbuild.stop();
