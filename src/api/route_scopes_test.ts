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
