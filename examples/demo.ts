/**
 * The library end to end against the embedded fake CARTO, on this machine
 * only: a real loopback OAuth login (PKCE, state, the one-shot server on
 * localhost) with a stand-in browser, the token cache, DW credentials, a
 * BigQuery query and the SQL API, then an M2M login.
 *
 *   npx deno task demo        (or: bun examples/demo.ts)
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CartoAuth } from "../mod.ts";
import { startFakeCarto } from "../src/testing/mod.ts";

const redact = (token: string) =>
  `${token.slice(0, 12)}… (${token.length} chars)`;
const step = (text: string) => console.log(`\n▶ ${text}`);

await using fake = await startFakeCarto();
const cacheFilepath = join(
  await mkdtemp(join(tmpdir(), "carto-auth-demo-")),
  "token_oauth.json",
);
console.log(`fake CARTO listening on ${fake.url}`);

step("Interactive login (loopback flow; a stand-in browser approves it)");
const auth = await CartoAuth.fromOAuth({
  endpoints: fake.endpoints,
  cacheFilepath,
  redirectPort: 0, // any free port; the real CARTO login uses 10000
  openBrowser: async (url) => {
    console.log(`  browser opens ${url.split("?")[0]}?…`);
    const landed = await fake.browser(url);
    console.log(`  browser lands on ${landed}`);
  },
});
console.log(`  API base URL (discovered): ${auth.getApiBaseUrl()}`);
console.log(`  access token: ${redact(await auth.getAccessToken())}`);
console.log(`  cached in ${cacheFilepath}`);

step("Second run: the cached token is used, no login");
const again = await CartoAuth.fromOAuth({
  endpoints: fake.endpoints,
  cacheFilepath,
  openBrowser: () => {
    throw new Error("no login expected");
  },
});
console.log(
  `  same token: ${
    (await again.getAccessToken()) === (await auth.getAccessToken())
  }`,
);

step("CARTO Data Warehouse credentials");
const [projectId, dwToken] = await auth.getCartoDwCredentials();
console.log(`  project ${projectId}, token ${redact(dwToken)}`);

step("A parameterized BigQuery query through the DW client");
const dw = await auth.getCartoDwClient();
const { rows } = await dw.query("SELECT @n AS n, 'hello' AS greeting", {
  params: { n: 42 },
});
console.log(" ", rows);

step("The CARTO SQL API through the authenticated fetch");
const res = await auth.fetch(
  "/v3/sql/carto_dw/query?q=" + encodeURIComponent("SELECT 1 AS one"),
);
console.log(`  HTTP ${res.status}`, (await res.json()).rows);

step("A machine (M2M client credentials)");
const m2m = await CartoAuth.fromM2M(fake.credentials, {
  endpoints: fake.endpoints,
  useCache: false,
});
console.log(`  access token: ${redact(await m2m.getAccessToken())}`);

const calls = fake.requests.map((r) => r.route ?? r.path);
console.log(`\nRequests the fake CARTO saw: ${calls.join(", ")}`);
