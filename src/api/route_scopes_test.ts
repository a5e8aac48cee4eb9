import assert from "node:assert/strict";
import { scopeFor } from "./route_scopes.ts";

Deno.test("deleting readings needs train; deleting a meter needs admin; reading needs read", () => {
  assert.equal(scopeFor("DELETE", "/meters/electricity/b0/readings"), "train");
  assert.equal(scopeFor("DELETE", "/meters/electricity/b0"), "admin");
  assert.equal(scopeFor("DELETE", "/meters/electricity/b0/"), "admin");
  assert.equal(scopeFor("POST", "/meters/electricity/b0/readings"), "train");
  assert.equal(scopeFor("GET", "/meters/electricity/b0"), "read");
  assert.equal(scopeFor("GET", "/forecast/electricity/b0"), "read");
});

Deno.test("every webhook route needs admin, reads included: subscriptions hold signing keys", () => {
  for (
    const [method, path] of [
      ["POST", "/webhooks"],
      ["GET", "/webhooks"],
      ["GET", "/webhooks/wh_1"],
      ["DELETE", "/webhooks/wh_1"],
      ["GET", "/webhooks/wh_1/deliveries"],
      ["POST", "/webhooks/wh_1/deliveries/msg_1/replay"],
      ["GET", "/webhooks/tasks/5f0c0c0e-0000-4000-8000-000000000000/deliveries"],
    ]
  ) assert.equal(scopeFor(method, path), "admin", `${method} ${path}`);
  assert.equal(scopeFor("POST", "/trainmodel/"), "train", "a notify comes with train");
});

Deno.test("starting a batch needs train; reading a group needs read", () => {
  assert.equal(scopeFor("POST", "/trainmodel/batch"), "train");
  assert.equal(scopeFor("POST", "/trainmodel/batch/"), "train");
  assert.equal(scopeFor("GET", "/trainmodel/groups/3f1c0a57-7a57-4c1a-9d1e-0123456789ab"), "read");
});

Deno.test("a site's calendar is written with train, like its weather, and read with read", () => {
  assert.equal(scopeFor("POST", "/sites/bedford/weather"), "train");
  assert.equal(scopeFor("PUT", "/sites/bedford/calendar"), "train");
  assert.equal(scopeFor("PUT", "/sites/bedford/calendar/"), "train");
  assert.equal(scopeFor("DELETE", "/sites/bedford/calendar"), "train");
  assert.equal(scopeFor("GET", "/sites/bedford/calendar"), "read");
  assert.equal(scopeFor("GET", "/sites/bedford/weather"), "read");
});
