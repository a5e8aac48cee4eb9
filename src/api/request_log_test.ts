import assert from "node:assert/strict";
import { Hono } from "hono";
import { redactedPath, requestLog, type RequestLogFields } from "./request_log.ts";
import { observeRequests } from "./request_observer.ts";

Deno.test("credential-like query values are redacted; the rest stays readable", () => {
  assert.equal(
    redactedPath("http://h/trainmodel/events?token=eyJ.abc.def&status=SUCCESS&api_key=wk_1"),
    "/trainmodel/events?token=[redacted]&status=SUCCESS&api_key=[redacted]",
  );
  assert.equal(redactedPath("http://h/meters"), "/meters");
});

Deno.test("one line per request, with its status, route pattern, request id and no token", async () => {
  const lines: RequestLogFields[] = [];
  const app = new Hono().use(observeRequests([requestLog((_, fields) => lines.push(fields))]));
  app.get("/x/:id", (c) => c.text("ok", 201));
  const response = await app.request("/x/42?token=secret-value", {
    headers: { "X-Request-Id": "abc-1" },
  });
  await response.text();
  assert.equal(response.headers.get("X-Request-Id"), "abc-1");
  assert.equal(lines.length, 1);
  const { duration_ms, ...rest } = lines[0];
  assert.ok(duration_ms >= 0);
  assert.deepEqual(rest, {
    method: "GET",
    path: "/x/42?token=[redacted]",
    status: 201,
    route: "/x/:id",
    request_id: "abc-1",
  });
});
