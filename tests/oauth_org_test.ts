/** SSO: an organization given by name is looked up; an org_ id is sent as is. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { CartoAuth } from "../mod.ts";
import { startFakeCarto } from "../src/testing/mod.ts";
import { authorizeRequest, loopback } from "./oauth_helpers.ts";
import { rejection } from "./rejection.ts";

test("org by name is resolved to its org_ id and sent as organization", async () => {
  await using fake = await startFakeCarto({ orgs: { acme: "org_acme123" } });
  await CartoAuth.fromOAuth({ ...loopback(fake), org: "acme" });
  assert.equal(
    authorizeRequest(fake).searchParams.get("organization"),
    "org_acme123",
  );
  assert.equal(fake.count("orgId"), 1);
});

test("an org_ id is sent as is, without a lookup", async () => {
  await using fake = await startFakeCarto({ orgs: { acme: "org_acme123" } });
  await CartoAuth.fromOAuth({ ...loopback(fake), org: "org_acme123" });
  assert.equal(
    authorizeRequest(fake).searchParams.get("organization"),
    "org_acme123",
  );
  assert.equal(fake.count("orgId"), 0);
});

test("an unknown org name is a clear error before any browser opens", async () => {
  await using fake = await startFakeCarto();
  let opened = false;
  const error = await rejection(CartoAuth.fromOAuth({
    ...loopback(fake),
    org: "nope",
    openBrowser: () => {
      opened = true;
    },
  }));
  assert.match(error.message, /no CARTO organization named "nope"/);
  assert.equal(opened, false);
});
