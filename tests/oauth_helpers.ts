/** What the OAuth test files share: a loopback login driven by the fake. */
import assert from "node:assert/strict";
import type { FakeCarto } from "../src/testing/mod.ts";

/** The authorize URL as the fake CARTO received it (the browser reached it through the start link). */
export function authorizeRequest(fake: FakeCarto): URL {
  const request = fake.requests.find((r) => r.route === "authorize");
  assert.ok(request, "the browser never reached the authorize endpoint");
  return new URL(request.path, fake.url);
}

/** Options for a loopback login driven by the fake's stand-in browser. */
export function loopback(fake: FakeCarto): {
  endpoints: FakeCarto["endpoints"];
  openBrowser: FakeCarto["browser"];
  redirectPort: number;
  useCache: boolean;
  log: () => void;
} {
  return {
    endpoints: fake.endpoints,
    openBrowser: fake.browser,
    redirectPort: 0,
    useCache: false,
    log: () => {},
  };
}
