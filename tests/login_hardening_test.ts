/** The loopback login server: where it listens, what it says, when it goes away. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { CartoAuth } from "../mod.ts";
import { startFakeCarto } from "../src/testing/mod.ts";
import { escapeHtml } from "../src/oauth/loopback.ts";

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(1000);
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => (socket.destroy(), resolve(false)));
  });
}

/** This machine's addresses that are not loopback. */
function externalAddresses(): string[] {
  return Object.values(networkInterfaces()).flat()
    .filter((i) => i && !i.internal && i.family === "IPv4")
    .map((i) => i!.address);
}

test("the callback server listens on loopback (IPv4 and IPv6) and on nothing else", async (t) => {
  const external = externalAddresses();
  if (external.length === 0) {
    t.diagnostic(
      "no non-loopback IPv4 address on this machine; only loopback is checked",
    );
  }
  await using fake = await startFakeCarto();
  const seen: Record<string, boolean> = {};
  await CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    redirectPort: 0,
    useCache: false,
    log: () => {},
    openBrowser: async (url) => {
      const port = Number(new URL(url).port);
      for (const host of ["127.0.0.1", "::1", ...external]) {
        seen[host] = await accepts(host, port);
      }
      await fake.browser(url);
    },
  });
  assert.equal(seen["127.0.0.1"], true);
  assert.equal(seen["::1"], true);
  for (const host of external) {
    assert.equal(seen[host], false, `reachable on ${host}`);
  }
});

test("the callback server is gone once the login is done", async () => {
  await using fake = await startFakeCarto();
  let port = 0;
  await CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    redirectPort: 0,
    useCache: false,
    log: () => {},
    openBrowser: (url) => {
      port = Number(new URL(url).port);
      return fake.browser(url);
    },
  });
  assert.ok(port > 0);
  assert.equal(await accepts("127.0.0.1", port), false);
  assert.equal(await accepts("::1", port), false);
});

test("nothing logged during a login holds the code or the token", async () => {
  await using fake = await startFakeCarto();
  const logged: string[] = [];
  let code = "";
  const auth = await CartoAuth.fromOAuth({
    endpoints: fake.endpoints,
    openBrowser: false,
    useCache: false,
    log: (m) => logged.push(m),
    prompt: async (message) => {
      logged.push(message);
      const url = await fake.paste(message);
      code = new URL(url).searchParams.get("code")!;
      return url;
    },
  });
  const all = logged.join("\n");
  assert.ok(code.length > 10);
  assert.ok(!all.includes(code));
  assert.ok(!all.includes(await auth.getAccessToken()));
});

test("escapeHtml neutralises markup", () => {
  assert.equal(
    escapeHtml(`<script>alert("x")</script>&'`),
    "&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;&#39;",
  );
});
