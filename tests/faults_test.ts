/**
 * Fault matrix: every upstream call of the core against every injected fault.
 * Transient faults are retried and then succeed; permanent ones fail fast
 * with a CredentialsError naming the endpoint; a hang or a slow body ends at
 * the timeout. The matrix is printed as a table at the end.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CartoAuth, CredentialsError } from "../mod.ts";
import {
  type FakeCarto,
  type FakeRoute,
  FAULT_KINDS,
  type FaultKind,
  startFakeCarto,
} from "../src/testing/mod.ts";

const TIMEOUT_MS = 600;
/**
 * The timeout of the `huge-body` cells: moving 10 MB takes what the machine
 * gives (beyond 600 ms on a loaded one), and those cells are about the size
 * of the answer, not about time. The library's default.
 */
const SIZE_TIMEOUT_MS = 30_000;
const TRANSIENT = new Set<FaultKind>(["500", "502", "503", "429", "reset"]);
const SLOW = new Set<FaultKind>(["hang", "slow-body"]);

const bigQueryCall =
  (method: string, path: RegExp) =>
  (r: { method: string; url?: string; path?: string }) =>
    r.method === method &&
    path.test(new URL(r.url ?? r.path!, "http://x").pathname);
const isQuery = bigQueryCall("POST", /\/projects\/[^/]+\/queries$/);
const isPage = bigQueryCall("GET", /\/projects\/[^/]+\/queries\/[^/]+$/);

async function dw(fake: FakeCarto, timeoutMs: number) {
  return await (await m2m(fake, timeoutMs)).getCartoDwClient({
    requestTimeoutMs: timeoutMs,
  });
}

/** Each upstream call, as the public API makes it; `only` picks the requests of a shared route. */
const CALLS: Record<string, {
  route: FakeRoute;
  only?: (r: { method: string; url?: string; path?: string }) => boolean;
  /** BigQuery calls are idempotent (requestId, GET), so a timed-out one is tried again. */
  retriesTimeouts?: boolean;
  /**
   * A form field that is spent by the request (a login code): never sent
   * twice, so a lost answer (5xx, reset, timeout) starts a fresh login.
   */
  singleUse?: string;
  run(fake: FakeCarto, timeoutMs: number): Promise<unknown>;
}> = {
  "token (M2M)": {
    route: "token",
    run: (fake, timeoutMs) => m2m(fake, timeoutMs),
  },
  "token (login)": {
    route: "token",
    singleUse: "code",
    run: (fake, timeoutMs) => login(fake, timeoutMs),
  },
  "accounts": { route: "accounts", run: login },
  "config.yaml": { route: "config", run: login },
  "org lookup": {
    route: "orgId",
    run: (fake, timeoutMs) => login(fake, timeoutMs, "acme"),
  },
  "DW token": {
    route: "dwToken",
    run: async (fake, timeoutMs) =>
      (await m2m(fake, timeoutMs)).getCartoDwCredentials(),
  },
  "SQL API": {
    route: "sql",
    run: async (fake, timeoutMs) =>
      (await m2m(fake, timeoutMs)).querySql("carto_dw", "SELECT 1 AS n"),
  },
  "BigQuery query": {
    route: "bigquery",
    only: isQuery,
    retriesTimeouts: true,
    run: async (fake, timeoutMs) =>
      (await dw(fake, timeoutMs)).query("SELECT 1 AS n"),
  },
  "BigQuery page": {
    route: "bigquery",
    only: isPage,
    retriesTimeouts: true,
    run: async (fake, timeoutMs) => {
      fake.bigquery.setResult("SELECT n FROM three", {
        schema: [{ name: "n", type: "INTEGER", mode: "NULLABLE" }],
        rows: [1, 2, 3].map((n) => ({ f: [{ v: String(n) }] })),
      }, { pageSize: 1 });
      const { rows } = await (await dw(fake, timeoutMs)).query(
        "SELECT n FROM three",
      );
      assert.deepEqual(rows, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    },
  },
};

function login(fake: FakeCarto, timeoutMs: number, org?: string) {
  return CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    openBrowser: fake.browser,
    redirectPort: 0,
    useCache: false,
    org,
    timeoutMs,
    log: () => {},
  });
}

function m2m(fake: FakeCarto, timeoutMs: number) {
  return CartoAuth.fromM2M(fake.credentials, {
    endpoints: fake.endpoints,
    useCache: false,
    timeoutMs,
  });
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
process.on("unhandledRejection", onUnhandled);

const matrix = new Map<string, Map<FaultKind, string>>();

for (const [name, call] of Object.entries(CALLS)) {
  test(`fault matrix: ${name}`, async () => {
    const row = new Map<FaultKind, string>();
    matrix.set(name, row);
    for (const kind of FAULT_KINDS) {
      await using fake = await startFakeCarto();
      // Earlier calls of the same operation must succeed; count only the faulted route.
      fake.fault(call.route, kind, 1, call.only);
      const started = performance.now();
      const timeoutMs = kind === "huge-body" ? SIZE_TIMEOUT_MS : TIMEOUT_MS;
      const outcome = await call.run(fake, timeoutMs).then(
        () => undefined,
        (e) => e,
      );
      const ms = Math.round(performance.now() - started);
      const attempts = fake.requests.filter((r) =>
        r.route === call.route && (!call.only || call.only(r))
      ).length;
      const where = `${name} × ${kind}`;
      if (call.singleUse && (SLOW.has(kind) || TRANSIENT.has(kind))) {
        const spent = fake.requests.filter((r) =>
          r.route === call.route
        )
          .map((r) => new URLSearchParams(r.body).get(call.singleUse!));
        assert.equal(outcome, undefined, `${where}: ok, got ${outcome}`);
        assert.ok(attempts >= 2, `${where}: tried again`);
        if (kind === "429") {
          // A 429 was not processed: the same code may go again.
          row.set(kind, `retried, ok (${attempts} tries)`);
        } else {
          assert.equal(new Set(spent).size, spent.length, `${where}: reused`);
          row.set(kind, `new login, ok (${attempts} tries)`);
        }
        continue;
      }
      if (SLOW.has(kind) && call.retriesTimeouts) {
        assert.equal(
          outcome,
          undefined,
          `${where}: timed out, retried, ok; got ${outcome}`,
        );
        assert.ok(
          ms >= TIMEOUT_MS,
          `${where}: the first try ran to the timeout (${ms} ms)`,
        );
        assert.ok(attempts >= 2, `${where}: one more try`);
        row.set(kind, `timed out, retried, ok (${ms} ms)`);
        continue;
      }
      if (TRANSIENT.has(kind)) {
        assert.equal(
          outcome,
          undefined,
          `${where}: retried and succeeded, got ${outcome}`,
        );
        assert.ok(attempts >= 2, `${where}: retried`);
        if (kind === "429") {
          assert.ok(ms >= 900, `${where}: waited for Retry-After (${ms} ms)`);
        }
        row.set(kind, `retried, ok (${attempts} tries)`);
        continue;
      }
      assert.ok(
        outcome instanceof CredentialsError,
        `${where}: CredentialsError, got ${outcome}`,
      );
      assert.ok(
        !outcome.message.includes(fake.credentials.clientSecret),
        `${where}: no secret`,
      );
      assert.doesNotMatch(
        outcome.message,
        /eyJ[\w-]{10,}/,
        `${where}: no token`,
      );
      assert.match(
        outcome.message,
        /https?:\/\/127\.0\.0\.1:\d+\//,
        `${where}: names the endpoint`,
      );
      if (SLOW.has(kind)) {
        assert.equal(outcome.code, "timeout", `${where}: ${outcome.message}`);
        assert.ok(
          ms < TIMEOUT_MS + 1500,
          `${where}: ended at the timeout (${ms} ms)`,
        );
        assert.equal(attempts, 1, `${where}: a timeout is not retried`);
        row.set(kind, `timeout after ${ms} ms`);
      } else {
        assert.equal(
          outcome.code,
          "bad_response",
          `${where}: ${outcome.message}`,
        );
        assert.equal(attempts, 1, `${where}: not retried`);
        row.set(kind, "fails fast: bad_response");
      }
    }
  });
}

test("no unhandled rejection anywhere in the matrix; the matrix", async () => {
  // Let stray rejections of closed connections surface before checking.
  await new Promise((resolve) => setTimeout(resolve, 50));
  process.off("unhandledRejection", onUnhandled);
  assert.deepEqual(unhandled, []);
  assert.equal(matrix.size, Object.keys(CALLS).length);
  const header = ["call", ...FAULT_KINDS];
  const lines = [
    `| ${header.join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...[...matrix].map(([name, row]) =>
      `| ${name} | ${
        FAULT_KINDS.map((k) => row.get(k)?.replace(/ \(.*\)$/, "") ?? "?").join(
          " | ",
        )
      } |`
    ),
  ];
  console.log(
    `\nFault matrix (timeout ${TIMEOUT_MS} ms):\n${lines.join("\n")}\n`,
  );
});
